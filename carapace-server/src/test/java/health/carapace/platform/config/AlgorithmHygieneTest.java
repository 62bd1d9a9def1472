package health.carapace.platform.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.platform.config.AlgorithmUse.Kind;
import health.carapace.testing.IntegrationTest;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.ssl.DefaultSslBundleRegistry;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundleKey;
import org.springframework.boot.ssl.SslOptions;
import org.springframework.boot.ssl.SslStoreBundle;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.env.Environment;
import org.springframework.mock.env.MockEnvironment;

/**
 * The startup algorithm check passes on the real configuration, logs the inventory by name, and
 * refuses each weak TLS configuration on its own (weak keys: {@code crypto.internal.WeakKeyRefusalTest},
 * {@code signin.internal.SignInAlgorithmsTest}).
 */
@ExtendWith(OutputCaptureExtension.class)
class AlgorithmHygieneTest extends IntegrationTest {

    @Autowired
    private AlgorithmHygiene hygiene;

    @Autowired
    private Environment environment;

    @TempDir
    Path dir;

    @Test
    void theRealConfigurationPassesAndEveryAlgorithmIsListed() {
        // A resource outside any patient, so the shared data key exists and is among those loaded.
        assertThat(send(java.net.http.HttpRequest.newBuilder(uri("/fhir/Organization"))
                .header("Content-Type", "application/fhir+json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Organization\"}")))
                .statusCode()).isEqualTo(201);
        List<AlgorithmUse> inventory = hygiene.inventory();

        assertThat(AlgorithmPolicy.problems(inventory)).isEmpty();
        assertThat(inventory).extracting(u -> u.kind() + " " + u.algorithm() + " " + u.bits()).contains(
                "KEY_WRAP AES-GCM 256",            // the KEK
                "AEAD AES-GCM 256",                // data keys: the template and the loaded keysets
                "KDF HKDF-SHA256 256",             // blind-index root key
                "MAC HMAC-SHA256 256",             // blind-index tokens
                "SIGNATURE ECDSA-P256-SHA256 256", // access tokens (ES256)
                "SIGNATURE Ed25519 256",           // audit tree heads
                "DIGEST SHA-256 0",                // audit Merkle tree
                "PASSWORD_HASH Argon2id 0",        // client secrets
                "TLS_PROTOCOL TLSv1.3 0", "TLS_PROTOCOL TLSv1.2 0",
                "TLS_CIPHER_SUITE TLS_AES_256_GCM_SHA384 0",
                "SIGNATURE ECDSA-P256 256",        // the TLS certificate's key
                "CERTIFICATE_SIGNATURE ECDSA-SHA256 0");
        assertThat(inventory).filteredOn(u -> u.component().equals("record data keys")).isNotEmpty();
        // The sign-in algorithms are in the inventory too, judged like the rest.
        assertThat(inventory).extracting(u -> u.component() + ": " + u.kind() + " " + u.algorithm() + " " + u.bits())
                .contains("TOTP codes (RFC 6238): MAC HMAC-SHA256 256",
                        "TOTP seed sealing: AEAD AES-GCM 256",
                        "sign-in throttle counter keys: MAC HMAC-SHA256 256",
                        "enrolment-link hashes: DIGEST SHA-256 0");
    }

    @Test
    void theInventoryIsLoggedByNameOnly(CapturedOutput output) {
        hygiene.afterSingletonsInstantiated();

        assertThat(output.getAll()).contains("Algorithm in use").contains("AES-GCM (256-bit)").contains("Argon2id")
                .contains("TLS_AES_256_GCM_SHA384").doesNotContain("$argon2id$v=")
                .doesNotContain(environment.getProperty("server.ssl.key-store-password"));
    }

    @Test
    void aTlsCipherListWithACbcSuiteIsRefused() {
        MockEnvironment env = tls().withProperty("server.ssl.ciphers",
                "TLS_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384");

        assertThatThrownBy(() -> AlgorithmHygiene.check(TlsAlgorithms.of(env)))
                .isInstanceOf(AlgorithmHygiene.WeakAlgorithms.class)
                .hasMessageContaining("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384").hasMessageContaining("CBC mode is refused")
                .hasMessageNotContaining("TLS_AES_256_GCM_SHA384:");
    }

    @Test
    void anAes128GcmTlsSuiteIsRefused() {
        MockEnvironment env = tls().withProperty("server.ssl.ciphers", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");

        assertThatThrownBy(() -> AlgorithmHygiene.check(TlsAlgorithms.of(env)))
                .hasMessageContaining("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256").hasMessageContaining("not an allowed TLS cipher suite");
    }

    @Test
    void anUnsetCipherListIsRefusedBecauseTheJdkDefaultsIncludeCbc() {
        MockEnvironment env = new MockEnvironment().withProperty("server.ssl.enabled-protocols", "TLSv1.3,TLSv1.2");

        assertThatThrownBy(() -> AlgorithmHygiene.check(TlsAlgorithms.of(env)))
                .hasMessageContaining("server.ssl.ciphers unset");
    }

    @Test
    void tls11IsRefused() {
        MockEnvironment env = tls().withProperty("server.ssl.enabled-protocols", "TLSv1.2,TLSv1.1");

        assertThatThrownBy(() -> AlgorithmHygiene.check(TlsAlgorithms.of(env)))
                .hasMessageContaining("TLSv1.1").hasMessageContaining("TLS protocol versions below 1.2");
    }

    @Test
    void anRsa2048TlsCertificateIsRefused() throws Exception {
        MockEnvironment env = tls().withProperty("server.ssl.key-store", keystore("RSA", 2048, "SHA256withRSA").toString())
                .withProperty("server.ssl.key-store-password", "changeit");

        assertThatThrownBy(() -> AlgorithmHygiene.check(TlsAlgorithms.of(env)))
                .hasMessageContaining("TLS certificate key: SIGNATURE RSA (2048-bit)")
                .hasMessageContaining("RSA keys below 3072 bits are refused");
    }

    @Test
    void anRsa3072TlsCertificateSignedWithSha256Passes() throws Exception {
        MockEnvironment env = tls().withProperty("server.ssl.key-store", keystore("RSA", 3072, "SHA256withRSA").toString())
                .withProperty("server.ssl.key-store-password", "changeit");

        AlgorithmHygiene.check(TlsAlgorithms.of(env));
    }

    /**
     * With {@code server.ssl.bundle} the connector takes its certificate, protocols and suites
     * from the bundle and ignores {@code server.ssl.ciphers} and friends: the check must judge
     * the bundle, not the (still strong) server.ssl.* lists.
     */
    @Test
    void aWeakSslBundleIsRefusedEvenWhenServerSslListsAreStrong() throws Exception {
        DefaultSslBundleRegistry bundles = new DefaultSslBundleRegistry();
        bundles.registerBundle("web", bundle(keystore("RSA", 2048, "SHA256withRSA"),
                SslOptions.of(new String[] {"TLS_RSA_WITH_AES_128_CBC_SHA"}, new String[] {"TLSv1.2", "TLSv1.1"})));
        MockEnvironment env = tls().withProperty("server.ssl.bundle", "web");

        assertThatThrownBy(() -> AlgorithmHygiene.check(TlsAlgorithms.of(env, bundles)))
                .hasMessageContaining("RSA keys below 3072 bits are refused")
                .hasMessageContaining("CBC mode is refused")
                .hasMessageContaining("TLSv1.1");
    }

    @Test
    void aStrongSslBundlePassesAndABundleThatCannotBeInspectedIsRefused() throws Exception {
        DefaultSslBundleRegistry bundles = new DefaultSslBundleRegistry();
        bundles.registerBundle("web", bundle(keystore("EC", 256, "SHA256withECDSA"), SslOptions.of(
                AlgorithmPolicy.TLS_CIPHER_SUITES.toArray(String[]::new), new String[] {"TLSv1.3", "TLSv1.2"})));
        MockEnvironment env = new MockEnvironment().withProperty("server.ssl.bundle", "web");

        List<AlgorithmUse> uses = TlsAlgorithms.of(env, bundles);
        AlgorithmHygiene.check(uses);
        assertThat(uses).extracting(AlgorithmUse::algorithm).contains("ECDSA-P256", "ECDSA-SHA256", "TLSv1.3");
        // A bundle without options leaves the JDK defaults on; a bundle the check cannot see is refused.
        bundles.registerBundle("bare", SslBundle.of(SslStoreBundle.of(load(keystore("EC", 256, "SHA256withECDSA")),
                "changeit", null), SslBundleKey.of("changeit", "server")));
        assertThatThrownBy(() -> AlgorithmHygiene.check(TlsAlgorithms.of(env.withProperty("server.ssl.bundle", "bare"),
                bundles))).hasMessageContaining("unset");
        assertThatThrownBy(() -> AlgorithmHygiene.check(TlsAlgorithms.of(env, null)))
                .hasMessageContaining("cannot be inspected");
    }

    private static SslBundle bundle(Path keystore, SslOptions options) throws Exception {
        return SslBundle.of(SslStoreBundle.of(load(keystore), "changeit", null), SslBundleKey.of("changeit", "server"),
                options);
    }

    private static KeyStore load(Path file) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(file)) {
            store.load(in, "changeit".toCharArray());
        }
        return store;
    }

    @Test
    void aSha1SignedTlsCertificateIsRefused() throws Exception {
        MockEnvironment env = tls().withProperty("server.ssl.key-store", keystore("RSA", 3072, "SHA1withRSA").toString())
                .withProperty("server.ssl.key-store-password", "changeit");

        assertThatThrownBy(() -> AlgorithmHygiene.check(TlsAlgorithms.of(env)))
                .hasMessageContaining("RSA-SHA1").hasMessageContaining("SHA-1 is refused");
    }

    @Test
    void unknownAlgorithmsAreRefusedByTheAllowlist() {
        assertThat(AlgorithmPolicy.refusal(AlgorithmUse.of("x", Kind.AEAD, "Serpent-GCM", 256))).isPresent();
        assertThat(AlgorithmPolicy.refusal(AlgorithmUse.of("x", Kind.SIGNATURE, "DSA", 3072))).isPresent();
        assertThat(AlgorithmPolicy.refusal(AlgorithmUse.of("x", Kind.DIGEST, "SHA-1", 0))).contains("SHA-1 is refused");
        assertThat(AlgorithmPolicy.refusal(AlgorithmUse.of("x", Kind.MAC, "HMAC-SHA1", 256))).contains("SHA-1 is refused");
        assertThat(AlgorithmPolicy.refusal(AlgorithmUse.of("x", Kind.PASSWORD_HASH, "bcrypt", 0))).isPresent();
    }

    private static MockEnvironment tls() {
        return new MockEnvironment()
                .withProperty("server.ssl.enabled-protocols", "TLSv1.3,TLSv1.2")
                .withProperty("server.ssl.ciphers", String.join(",", AlgorithmPolicy.TLS_CIPHER_SUITES));
    }

    private Path keystore(String algorithm, int bits, String signatureAlgorithm) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
        generator.initialize(bits);
        KeyPair pair = generator.generateKeyPair();
        X500Name name = new X500Name("CN=localhost");
        Instant now = Instant.now();
        X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(
                name, BigInteger.ONE, Date.from(now.minus(1, ChronoUnit.DAYS)), Date.from(now.plus(1, ChronoUnit.DAYS)),
                name, pair.getPublic()).build(new JcaContentSignerBuilder(signatureAlgorithm).build(pair.getPrivate())));
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("server", pair.getPrivate(), "changeit".toCharArray(), new X509Certificate[] {certificate});
        Path file = dir.resolve(algorithm + bits + signatureAlgorithm + ".p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, "changeit".toCharArray());
        }
        return file;
    }
}
