package health.carapace.incident.internal;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import health.carapace.testing.TestInstallation;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.springframework.mock.env.MockEnvironment;

/**
 * Real alert receivers for the outbox tests, each on a fixed port so that it can be stopped (an
 * outage) and started again: GreenMail over implicit TLS, and a JDK HTTPS server that verifies the
 * webhook's HMAC-SHA256 signature before it counts a delivery. Both present the test installation's
 * certificate (CN localhost), trusted through a PKCS#12 trust store.
 */
final class AlertReceivers implements AutoCloseable {

    static final String SECRET = "a-webhook-secret-of-at-least-32-characters";
    static final String OFFICER = "privacy-officer@hospital.example";
    static final String SECOND = "ciso@hospital.example";

    final int smtpPort = freePort();
    final int webhookPort = freePort();
    /** Verified webhook deliveries: the Idempotency-Key and the body. */
    final List<Map.Entry<String, String>> hooks = new CopyOnWriteArrayList<>();
    /**
     * Runs with each verified webhook's Idempotency-Key after it is counted and before it is answered:
     * a test can hold the sender inside a delivery, or cut its database off between send and record.
     */
    volatile java.util.function.Consumer<String> onHook = key -> { };
    /** Mail received by every GreenMail started here. */
    private final List<MimeMessage> mail = new CopyOnWriteArrayList<>();
    private GreenMail smtps;
    private HttpsServer webhook;

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path tls() {
        return TestInstallation.dataDir().resolve("tls");
    }

    private static char[] password() throws IOException {
        return Files.readString(tls().resolve("server.p12.password")).trim().toCharArray();
    }

    /** Settings sending to both receivers: the officer and the second contact, by mail and webhook. */
    Map<String, String> properties() throws Exception {
        Map<String, String> p = new HashMap<>();
        p.put("carapace.incident.alert.smtp.host", "localhost");
        p.put("carapace.incident.alert.smtp.port", Integer.toString(smtpPort));
        p.put("carapace.incident.alert.smtp.security", "tls");
        p.put("carapace.incident.alert.smtp.from", "carapace@hospital.example");
        p.put("carapace.incident.alert.smtp.to", OFFICER);
        p.put("carapace.incident.alert.smtp.escalate-to", SECOND);
        p.put("carapace.incident.alert.webhook.url", "https://localhost:" + webhookPort + "/hook");
        p.put("carapace.incident.alert.webhook.escalation-url", "https://localhost:" + webhookPort + "/second");
        p.put("carapace.incident.alert.webhook.secret", SECRET);
        p.put("carapace.incident.alert.trust-store", trustStore().toString());
        p.put("carapace.incident.alert.trust-store-password", "trust-pass");
        return p;
    }

    static AlertSettings settings(Map<String, String> properties) {
        MockEnvironment environment = new MockEnvironment();
        properties.forEach(environment::setProperty);
        return AlertSettings.from(environment);
    }

    void startMail() throws IOException {
        System.setProperty("greenmail.tls.keystore.file", tls().resolve("server.p12").toString());
        System.setProperty("greenmail.tls.keystore.password", new String(password()));
        System.setProperty("greenmail.tls.key.password", new String(password()));
        smtps = new GreenMail(new ServerSetup(smtpPort, "localhost", ServerSetup.PROTOCOL_SMTPS));
        smtps.start();
    }

    void stopMail() {
        if (smtps != null) {
            mail.addAll(List.of(smtps.getReceivedMessages()));
            smtps.stop();
            smtps = null;
        }
    }

    /** Every message received so far, by every GreenMail started here. */
    List<MimeMessage> mail() {
        List<MimeMessage> all = new ArrayList<>(mail);
        if (smtps != null) {
            all.addAll(List.of(smtps.getReceivedMessages()));
        }
        return all;
    }

    void startWebhook() throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(tls().resolve("server.p12"))) {
            keys.load(in, password());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password());
        SSLContext serverTls = SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        webhook = HttpsServer.create(new InetSocketAddress("localhost", webhookPort), 0);
        webhook.setHttpsConfigurator(new HttpsConfigurator(serverTls));
        webhook.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String signature = exchange.getRequestHeaders().getFirst("Carapace-Signature");
            boolean valid = signature != null && verified(signature, body);
            if (valid) {
                String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
                hooks.add(Map.entry(exchange.getRequestURI().getPath() + " " + key,
                        new String(body, StandardCharsets.UTF_8)));
                onHook.accept(key);
            }
            exchange.sendResponseHeaders(valid ? 204 : 401, -1);
            exchange.close();
        });
        // a thread per request: a test may hold one delivery while another sender's are answered
        webhook.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        webhook.start();
    }

    void stopWebhook() {
        if (webhook != null) {
            webhook.stop(0);
            webhook = null;
        }
    }

    private static boolean verified(String signature, byte[] body) {
        try {
            String t = signature.replaceAll("t=(\\d+),v1=.*", "$1");
            String v1 = signature.replaceAll(".*v1=([0-9a-f]+)", "$1");
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((t + ".").getBytes(StandardCharsets.US_ASCII));
            return java.security.MessageDigest.isEqual(mac.doFinal(body), HexFormat.of().parseHex(v1));
        } catch (Exception e) {
            return false;
        }
    }

    /** A PKCS#12 trust store holding the test installation's certificate. */
    static Path trustStore() throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(tls().resolve("server.p12"))) {
            keys.load(in, password());
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", keys.getCertificate("carapace"));
        Path file = Files.createTempFile("alert-trust", ".p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            trust.store(out, "trust-pass".toCharArray());
        }
        return file;
    }

    @Override
    public void close() {
        stopMail();
        stopWebhook();
    }
}
