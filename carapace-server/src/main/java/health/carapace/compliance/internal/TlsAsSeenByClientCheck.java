package health.carapace.compliance.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Transmission security as a client sees it: a TLS handshake with the server's own listener,
 * recording what was negotiated, then handshakes that offer only weak choices (TLS 1.2 with
 * AES-128 or CBC suites), which the server must refuse. The certificate is not judged here
 * (a client's trust is its own configuration); the negotiated protocol and suite are.
 * Without a listener to talk to (the CLI while no server runs) it cannot evaluate.
 */
@Component
class TlsAsSeenByClientCheck implements ComplianceCheck {

    /** What a client may offer that the server must refuse. The JDK client offers each of these. */
    static final List<String> WEAK_SUITES = List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384");
    static final List<String> STRONG_SUITES = List.of("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    private static final int TIMEOUT_MILLIS = 3000;

    private final Environment environment;

    TlsAsSeenByClientCheck(Environment environment) {
        this.environment = environment;
    }

    @Override
    public String id() {
        return "platform.tls";
    }

    @Override
    public String title() {
        return "HTTPS listener negotiates TLS 1.2+ with AEAD suites only, as seen by a client";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.TRANSMISSION_SECURITY, Rule.TRANSMISSION_INTEGRITY_CONTROLS, Rule.TRANSMISSION_ENCRYPTION,
                Rule.NPRM_ENCRYPTION_IN_TRANSIT);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        String host = environment.getProperty("server.address", "127.0.0.1");
        int port = Integer.parseInt(environment.getProperty("local.server.port",
                environment.getProperty("server.port", "8443")));
        InetSocketAddress address = new InetSocketAddress(host, port);
        CheckResult.Evidence evidence = CheckResult.Evidence.of().with("listener", host + ":" + port);
        String[] negotiated;
        try {
            negotiated = handshake(address, new String[] {"TLSv1.3", "TLSv1.2"}, null);
        } catch (IOException e) {
            return CheckResult.unknown("no TLS listener answered at " + host + ":" + port
                    + " (run the report while the server runs)");
        }
        evidence.with("negotiated by a default client", negotiated[0] + " " + negotiated[1]);
        List<String> accepted = new java.util.ArrayList<>();
        for (String suite : WEAK_SUITES) {
            try {
                String[] weak = handshake(address, new String[] {"TLSv1.2"}, new String[] {suite});
                accepted.add(weak[0] + " " + weak[1]);
            } catch (IOException refused) {
                // refused, as it must be
            }
        }
        String[] tls12;
        try {
            tls12 = handshake(address, new String[] {"TLSv1.2"}, null);
            evidence.with("negotiated offering TLS 1.2 only", tls12[0] + " " + tls12[1]);
        } catch (IOException e) {
            evidence.with("negotiated offering TLS 1.2 only", "refused (TLS 1.3 only)");
        }
        evidence.withList("weak suites offered alone and refused", WEAK_SUITES.stream()
                .filter(s -> accepted.stream().noneMatch(a -> a.endsWith(s))).toList(), 10)
                .withList("weak suites accepted", accepted, 10);
        boolean strong = (negotiated[0].equals("TLSv1.3") || negotiated[0].equals("TLSv1.2"))
                && STRONG_SUITES.contains(negotiated[1]);
        if (!strong) {
            return CheckResult.fail("the server negotiated a protocol or suite outside TLS 1.2+/AEAD-256", evidence);
        }
        return CheckResult.passIf(accepted.isEmpty(), "the server accepted weak suites: " + accepted, evidence);
    }

    /** {protocol, suite} of a completed handshake; IOException when refused or unreachable. */
    static String[] handshake(InetSocketAddress address, String[] protocols, String[] suites) throws IOException {
        SSLContext context;
        try {
            context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new AnyCertificate()}, new SecureRandom());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("The JDK has no TLS client", e);
        }
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
            socket.connect(address, TIMEOUT_MILLIS);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            socket.setEnabledProtocols(protocols);
            if (suites != null) {
                socket.setEnabledCipherSuites(suites);
            }
            socket.startHandshake();
            return new String[] {socket.getSession().getProtocol(), socket.getSession().getCipherSuite()};
        }
    }

    /**
     * Accepts any certificate: this client only observes which protocol and suite the server
     * negotiates, sends nothing over the connection, and closes it.
     */
    private static final class AnyCertificate implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
