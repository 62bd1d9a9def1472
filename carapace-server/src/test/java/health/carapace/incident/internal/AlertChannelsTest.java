package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import health.carapace.incident.Clocks;
import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Severity;
import health.carapace.testing.TestInstallation;
import jakarta.mail.internet.MimeMessage;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

/**
 * Alerts over encrypted channels only, against real receivers: a JDK HTTPS server that verifies
 * the webhook's HMAC-SHA256 signature and sees one idempotency key across retries; GreenMail over
 * implicit TLS receiving the e-mail; and the refusals: a plain SMTP server (no STARTTLS), an
 * untrusted certificate, plain-HTTP webhook URLs and plain SMTP settings.
 */
class AlertChannelsTest {

    private static final String SECRET = "a-webhook-secret-of-at-least-32-characters";
    private static final String PATIENT = "Patient/" + UUID.randomUUID();

    private static Incident incident() {
        Instant detected = Instant.now();
        return new Incident(UUID.randomUUID(), "vip-access", Severity.HIGH, "svc-" + UUID.randomUUID(), "127.0.0.1",
                IncidentState.OPEN, false, detected, detected, detected, 1, null, null, null, null, null,
                IncidentStore.clocks(detected, detected, null, null, null, null, IncidentState.OPEN),
                List.of(PATIENT), List.of(UUID.randomUUID()), List.of(), null, null);
    }

    private static Path tls() {
        return TestInstallation.dataDir().resolve("tls");
    }

    private static char[] password() throws Exception {
        return Files.readString(tls().resolve("server.p12.password")).trim().toCharArray();
    }

    /** A PKCS#12 trust store holding the test installation's certificate (CN localhost). */
    private static Path trustStore() throws Exception {
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

    private static AlertSettings settings(Map<String, String> properties) {
        MockEnvironment environment = new MockEnvironment();
        properties.forEach(environment::setProperty);
        return AlertSettings.from(environment);
    }

    @Test
    void theWebhookIsSignedRetriedWithOneIdempotencyKeyAndCarriesNoPatient() throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(tls().resolve("server.p12"))) {
            keys.load(in, password());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password());
        SSLContext serverTls = SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        HttpsServer receiver = HttpsServer.create(new InetSocketAddress("localhost", 0), 0);
        receiver.setHttpsConfigurator(new HttpsConfigurator(serverTls));
        AtomicInteger calls = new AtomicInteger();
        List<String> keysSeen = new CopyOnWriteArrayList<>();
        List<String> verifiedBodies = new CopyOnWriteArrayList<>();
        receiver.createContext("/hook", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String signature = exchange.getRequestHeaders().getFirst("Carapace-Signature");
            keysSeen.add(exchange.getRequestHeaders().getFirst("Idempotency-Key"));
            String t = signature.replaceAll("t=(\\d+),v1=.*", "$1");
            String v1 = signature.replaceAll(".*v1=([0-9a-f]+)", "$1");
            boolean fresh = Math.abs(Instant.now().getEpochSecond() - Long.parseLong(t)) < 300;
            boolean valid;
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
                mac.update((t + ".").getBytes(StandardCharsets.US_ASCII));
                valid = java.security.MessageDigest.isEqual(mac.doFinal(body),
                        java.util.HexFormat.of().parseHex(v1));
            } catch (Exception e) {
                valid = false;
            }
            int status = calls.incrementAndGet() == 1 ? 503 : valid && fresh ? 204 : 401;
            if (status == 204) {
                verifiedBodies.add(new String(body, StandardCharsets.UTF_8));
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        receiver.start();
        try {
            AlertSettings settings = settings(Map.of("carapace.incident.alert.webhook.url",
                    "https://localhost:" + receiver.getAddress().getPort() + "/hook",
                    "carapace.incident.alert.webhook.secret", SECRET,
                    "carapace.incident.alert.trust-store", trustStore().toString(),
                    "carapace.incident.alert.trust-store-password", "trust-pass"));
            WebhookAlerts webhooks = new WebhookAlerts(settings.sslContext(), settings.webhookSecret(),
                    Clock.systemUTC(), 4, Duration.ofMillis(50));
            Incident incident = incident();
            assertThat(webhooks.send(settings.webhook(), new Alert("opened", incident, "https://carapace.example")))
                    .isTrue();
            assertThat(calls.get()).as("one failure, one retry").isEqualTo(2);
            assertThat(keysSeen).containsExactly(incident.id() + ":opened", incident.id() + ":opened");
            assertThat(verifiedBodies).singleElement().satisfies(body -> assertThat(body)
                    .contains(incident.id().toString()).contains("\"detector\":\"vip-access\"")
                    .contains("\"isolateBy\"").doesNotContain(PATIENT).doesNotContain("Patient/"));

            WebhookAlerts wrongSecret = new WebhookAlerts(settings.sslContext(),
                    "another-secret-of-at-least-32-characters".getBytes(StandardCharsets.UTF_8), Clock.systemUTC(), 2,
                    Duration.ofMillis(10));
            assertThat(wrongSecret.send(settings.webhook(), new Alert("opened", incident, "https://x.example")))
                    .as("the receiver refuses a bad signature").isFalse();

            WebhookAlerts untrusting = new WebhookAlerts(SSLContext.getDefault(), settings.webhookSecret(),
                    Clock.systemUTC(), 1, Duration.ofMillis(10));
            int before = calls.get();
            assertThat(untrusting.send(settings.webhook(), new Alert("opened", incident, "https://x.example")))
                    .as("a certificate the JDK does not trust").isFalse();
            assertThat(calls.get()).isEqualTo(before);
            assertThatThrownBy(() -> webhooks.send(URI.create("http://localhost:1/hook"),
                    new Alert("opened", incident, "https://x.example"))).isInstanceOf(IllegalArgumentException.class);
        } finally {
            receiver.stop(0);
        }
    }

    @Test
    void mailGoesOverImplicitTlsWithAVerifiedCertificateAndNamesNoPatient() throws Exception {
        System.setProperty("greenmail.tls.keystore.file", tls().resolve("server.p12").toString());
        System.setProperty("greenmail.tls.keystore.password", new String(password()));
        System.setProperty("greenmail.tls.key.password", new String(password()));
        GreenMail smtps = new GreenMail(new ServerSetup(0, "localhost", ServerSetup.PROTOCOL_SMTPS));
        smtps.start();
        try {
            int port = smtps.getSmtps().getPort();
            Map<String, String> properties = Map.of("carapace.incident.alert.smtp.host", "localhost",
                    "carapace.incident.alert.smtp.port", Integer.toString(port),
                    "carapace.incident.alert.smtp.security", "tls",
                    "carapace.incident.alert.smtp.from", "carapace@hospital.example",
                    "carapace.incident.alert.smtp.to", "privacy-officer@hospital.example",
                    "carapace.incident.alert.trust-store", trustStore().toString(),
                    "carapace.incident.alert.trust-store-password", "trust-pass");
            Incident incident = incident();
            new MailAlerts(settings(properties)).send(new Alert("opened", incident, "https://carapace.example"),
                    List.of("privacy-officer@hospital.example"));
            MimeMessage[] received = smtps.getReceivedMessages();
            assertThat(received).hasSize(1);
            String text = received[0].getContent().toString();
            assertThat(received[0].getSubject()).isEqualTo("Carapace incident HIGH: vip-access");
            assertThat(text).contains(incident.id().toString()).contains("Isolate the affected access by")
                    .doesNotContain(PATIENT).doesNotContain("Patient/");

            Map<String, String> untrusted = new java.util.HashMap<>(properties);
            untrusted.remove("carapace.incident.alert.trust-store");
            untrusted.remove("carapace.incident.alert.trust-store-password");
            assertThatThrownBy(() -> new MailAlerts(settings(untrusted)).send(
                    new Alert("opened", incident, "https://x.example"), List.of("privacy-officer@hospital.example")))
                    .as("a certificate the JDK does not trust").isInstanceOf(jakarta.mail.MessagingException.class);
            assertThat(smtps.getReceivedMessages()).hasSize(1);
        } finally {
            smtps.stop();
        }
    }

    @Test
    void anSmtpServerWithoutTlsIsRefusedAndReceivesNothing() throws Exception {
        GreenMail plain = new GreenMail(new ServerSetup(0, "localhost", ServerSetup.PROTOCOL_SMTP));
        plain.start();
        try {
            AlertSettings settings = settings(Map.of("carapace.incident.alert.smtp.host", "localhost",
                    "carapace.incident.alert.smtp.port", Integer.toString(plain.getSmtp().getPort()),
                    "carapace.incident.alert.smtp.from", "carapace@hospital.example",
                    "carapace.incident.alert.smtp.to", "privacy-officer@hospital.example"));
            assertThatThrownBy(() -> new MailAlerts(settings).send(new Alert("opened", incident(), "https://x.example"),
                    List.of("privacy-officer@hospital.example"))).isInstanceOf(jakarta.mail.MessagingException.class);
            assertThat(plain.getReceivedMessages()).isEmpty();
        } finally {
            plain.stop();
        }
    }

    @Test
    void plainChannelsAreRefusedAtStart() {
        MockEnvironment environment = new MockEnvironment()
                .withProperty("carapace.incident.alert.smtp.host", "mail.example")
                .withProperty("carapace.incident.alert.smtp.security", "none")
                .withProperty("carapace.incident.alert.smtp.from", "a@example.org")
                .withProperty("carapace.incident.alert.smtp.to", "b@example.org")
                .withProperty("carapace.incident.alert.webhook.url", "http://hooks.example/carapace")
                .withProperty("carapace.incident.alert.webhook.secret", "short");
        List<String> problems = new IncidentReadiness().problems(health.carapace.platform.config.Mode.DEV, environment);
        assertThat(String.join("\n", problems)).contains("plain SMTP is refused").contains("plain HTTP is refused")
                .contains("webhook.secret").doesNotContain("hooks.example");
        assertThat(AlertSettings.problems(new MockEnvironment())).as("no alert channel configured").isEmpty();
    }
}
