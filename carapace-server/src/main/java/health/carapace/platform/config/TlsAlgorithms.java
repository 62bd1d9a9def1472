package health.carapace.platform.config;

import health.carapace.platform.config.AlgorithmUse.Kind;
import java.io.InputStream;

import java.security.KeyStore;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.core.env.Environment;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.core.io.Resource;

/**
 * The TLS part of the inventory, from the {@code server.ssl.*} settings the connector is built
 * from: protocols, cipher suites, and the certificate's key and signature. Unset protocol or
 * suite lists are reported as refused: the JDK defaults include suites below the floor.
 */
final class TlsAlgorithms {

    private static final String COMPONENT = "TLS";

    private TlsAlgorithms() {
    }

    static List<AlgorithmUse> of(Environment env) {
        return of(env, null);
    }

    /**
     * As {@link #of(Environment)}, judging SSL bundles too: with {@code server.ssl.bundle} the
     * connector takes certificate, protocols and suites from the bundle and ignores the
     * server.ssl.* lists, and each SNI bundle ({@code server.ssl.server-name-bundles}) serves its
     * own certificate. A bundle that cannot be inspected ({@code bundles} null) is refused.
     */
    static List<AlgorithmUse> of(Environment env, SslBundles bundles) {
        List<AlgorithmUse> uses = new ArrayList<>();
        if (!env.getProperty("server.ssl.enabled", Boolean.class, true)) {
            return uses;
        }
        Binder binder = Binder.get(env);
        String bundle = env.getProperty("server.ssl.bundle");
        List<String> named = new ArrayList<>();
        if (bundle != null && !bundle.isBlank()) {
            named.add(bundle.strip());
        }
        for (int i = 0; i < 1000; i++) {
            var sni = binder.bind("server.ssl.server-name-bundles[" + i + "].bundle", String.class);
            if (!sni.isBound()) {
                break;
            }
            named.add(sni.get().strip());
        }
        for (String name : named) {
            uses.addAll(ofBundle(name, bundles));
        }
        if (bundle != null && !bundle.isBlank()) {
            return uses;
        }
        List<String> protocols = binder.bind("server.ssl.enabled-protocols", Bindable.listOf(String.class))
                .orElse(Collections.emptyList());
        if (protocols.isEmpty()) {
            uses.add(AlgorithmUse.of(COMPONENT, Kind.TLS_PROTOCOL, "JDK default (server.ssl.enabled-protocols unset)", 0));
        }
        protocols.forEach(p -> uses.add(AlgorithmUse.of(COMPONENT, Kind.TLS_PROTOCOL, p.strip(), 0)));
        List<String> suites = binder.bind("server.ssl.ciphers", Bindable.listOf(String.class))
                .orElse(Collections.emptyList());
        if (suites.isEmpty()) {
            uses.add(AlgorithmUse.of(COMPONENT, Kind.TLS_CIPHER_SUITE, "JDK default (server.ssl.ciphers unset)", 0));
        }
        suites.forEach(s -> uses.add(AlgorithmUse.of(COMPONENT, Kind.TLS_CIPHER_SUITE, s.strip(), 0)));
        certificate(env).ifPresent(certificate -> {
            uses.add(publicKey(COMPONENT + " certificate key", certificate.getPublicKey()));
            uses.add(AlgorithmUse.of(COMPONENT + " certificate signature", Kind.CERTIFICATE_SIGNATURE,
                    signatureName(certificate.getSigAlgName()), 0));
        });
        return uses;
    }

    private static List<AlgorithmUse> ofBundle(String name, SslBundles bundles) {
        String component = COMPONENT + " (SSL bundle " + name + ")";
        if (bundles == null) {
            return List.of(AlgorithmUse.of(component, Kind.TLS_PROTOCOL, "unknown (the bundle cannot be inspected)", 0));
        }
        List<AlgorithmUse> uses = new ArrayList<>();
        SslBundle bundle = bundles.getBundle(name);
        String[] protocols = bundle.getOptions().getEnabledProtocols();
        if (protocols == null || protocols.length == 0) {
            uses.add(AlgorithmUse.of(component, Kind.TLS_PROTOCOL, "JDK default (bundle enabled-protocols unset)", 0));
        } else {
            for (String p : protocols) {
                uses.add(AlgorithmUse.of(component, Kind.TLS_PROTOCOL, p.strip(), 0));
            }
        }
        String[] suites = bundle.getOptions().getCiphers();
        if (suites == null || suites.length == 0) {
            uses.add(AlgorithmUse.of(component, Kind.TLS_CIPHER_SUITE, "JDK default (bundle ciphers unset)", 0));
        } else {
            for (String s : suites) {
                uses.add(AlgorithmUse.of(component, Kind.TLS_CIPHER_SUITE, s.strip(), 0));
            }
        }
        try {
            KeyStore store = bundle.getStores().getKeyStore();
            String alias = bundle.getKey().getAlias();
            if (store != null && alias == null) {
                for (String candidate : Collections.list(store.aliases())) {
                    if (store.isKeyEntry(candidate)) {
                        alias = candidate;
                        break;
                    }
                }
            }
            Certificate certificate = store == null || alias == null ? null : store.getCertificate(alias);
            if (!(certificate instanceof X509Certificate x509)) {
                uses.add(AlgorithmUse.of(component + " certificate", Kind.CERTIFICATE_SIGNATURE,
                        "unknown (no certificate found in the bundle)", 0));
                return uses;
            }
            uses.add(publicKey(component + " certificate key", x509.getPublicKey()));
            uses.add(AlgorithmUse.of(component + " certificate signature", Kind.CERTIFICATE_SIGNATURE,
                    signatureName(x509.getSigAlgName()), 0));
        } catch (java.security.KeyStoreException e) {
            throw new IllegalStateException("The TLS certificate of an SSL bundle cannot be read for the algorithm check", e);
        }
        return uses;
    }

    /** A public key as a signature algorithm: {@code ECDSA-P256}, {@code RSA} with its size, {@code Ed25519}. */
    static AlgorithmUse publicKey(String component, PublicKey key) {
        if (key instanceof RSAPublicKey rsa) {
            return AlgorithmUse.of(component, Kind.SIGNATURE, "RSA", rsa.getModulus().bitLength());
        }
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            return AlgorithmUse.of(component, Kind.SIGNATURE, "ECDSA-P" + bits, bits);
        }
        return AlgorithmUse.of(component, Kind.SIGNATURE, key.getAlgorithm(), 0);
    }

    /** {@code SHA256withECDSA} → {@code ECDSA-SHA256}; {@code SHA1withRSA} → {@code RSA-SHA1}. */
    static String signatureName(String jcaName) {
        String upper = jcaName.toUpperCase(Locale.ROOT);
        int with = upper.indexOf("WITH");
        if (with < 0) {
            return jcaName.equalsIgnoreCase("RSASSA-PSS") ? "RSA-PSS-SHA256" : jcaName;
        }
        String hash = upper.substring(0, with).replace("-", "");
        String key = upper.substring(with + 4);
        return (key.startsWith("RSAANDMGF1") ? "RSA-PSS" : key) + "-" + hash;
    }

    private static java.util.Optional<X509Certificate> certificate(Environment env) {
        DefaultResourceLoader loader = new DefaultResourceLoader();
        try {
            String keyStore = env.getProperty("server.ssl.key-store");
            if (keyStore != null && !keyStore.isBlank()) {
                KeyStore store = KeyStore.getInstance(env.getProperty("server.ssl.key-store-type", "PKCS12"));
                String password = env.getProperty("server.ssl.key-store-password");
                try (InputStream in = resource(loader, keyStore).getInputStream()) {
                    store.load(in, password == null ? null : password.toCharArray());
                }
                String alias = env.getProperty("server.ssl.key-alias");
                if (alias == null) {
                    for (String candidate : Collections.list(store.aliases())) {
                        if (store.isKeyEntry(candidate)) {
                            alias = candidate;
                            break;
                        }
                    }
                }
                Certificate certificate = alias == null ? null : store.getCertificate(alias);
                return java.util.Optional.ofNullable(certificate instanceof X509Certificate x ? x : null);
            }
            String pem = env.getProperty("server.ssl.certificate");
            if (pem != null && !pem.isBlank()) {
                try (InputStream in = resource(loader, pem).getInputStream()) {
                    return java.util.Optional.of((X509Certificate) CertificateFactory.getInstance("X.509")
                            .generateCertificate(in));
                }
            }
            return java.util.Optional.empty();
        } catch (Exception e) {
            // The connector itself reports an unreadable keystore; the inventory names it.
            throw new IllegalStateException("The TLS certificate (server.ssl.*) cannot be read for the algorithm check", e);
        }
    }

    private static Resource resource(DefaultResourceLoader loader, String location) {
        return location.contains(":") && !location.matches("[A-Za-z]:\\\\.*")
                ? loader.getResource(location) : loader.getResource("file:" + location);
    }

}
