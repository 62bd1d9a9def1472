package health.carapace.telehealth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.math.BigInteger;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What whoever runs or taps the signaling path can do to a visit, with real pages in headless
 * Chromium talking through {@link SignalingRelay}: a passive tap sees only public values and
 * wrapped keys (and the visit works); a relay that substitutes its own public keys (keeping the
 * commitments consistent, the best it can do) makes the two pages show different SAS digits, and
 * neither page can open the other's sender key, so no frame is decrypted.
 */
class MaliciousRelayBrowserTest extends VisitTestSupport {

    private static final Set<String> PROTOCOL = Set.of("welcome", "joined", "left", "ended", "offer", "answer", "ice",
            "commit", "reveal", "sender-key");

    @Test
    void aTapOnTheSignalingPathSeesOnlyPublicKeysAndWrappedSenderKeys() throws Exception {
        HeadlessChromium.require();
        try (SignalingRelay tap = new SignalingRelay(baseUrl(), UnaryOperator.identity())) {
            Pages pages = visitThrough(tap);
            try (HeadlessChromium clinician = pages.clinician(); HeadlessChromium patient = pages.patient()) {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                    assertThat(pages.clinician().number("decrypted")).isGreaterThan(30);
                    assertThat(pages.patient().number("decrypted")).isGreaterThan(30);
                });
                assertThat(pages.patient().attribute("sas", "data-sas")).isEqualTo(pages.clinician().attribute("sas", "data-sas"));
            }
            assertThat(tap.transcript).isNotEmpty().allSatisfy(message ->
                    assertThat(SignalClient.JSON.readTree(message).get("type").stringValue()).isIn(PROTOCOL));
            var senderKeys = tap.transcript.stream().map(SignalClient.JSON::readTree)
                    .filter(m -> m.get("type").stringValue().equals("sender-key")).toList();
            assertThat(senderKeys).isNotEmpty().allSatisfy(m -> {
                // 32 key bytes under AES-GCM: 48 bytes of ciphertext and tag, never the key itself
                assertThat(Base64.getDecoder().decode(m.get("wrapped").stringValue())).hasSize(48);
                assertThat(m.propertyNames()).containsExactlyInAnyOrder("type", "from", "kid", "iv", "wrapped");
            });
        }
    }

    @Test
    void aRelaySubstitutingPublicKeysMakesTheSasDifferAndDecryptsNothingForAnyone() throws Exception {
        HeadlessChromium.require();
        try (SignalingRelay attacker = new SignalingRelay(baseUrl(), new KeySubstitution())) {
            Pages pages = visitThrough(attacker);
            try (HeadlessChromium clinician = pages.clinician(); HeadlessChromium patient = pages.patient()) {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                    assertThat(pages.clinician().attribute("sas", "data-keys")).isEqualTo("2");
                    assertThat(pages.patient().attribute("sas", "data-keys")).isEqualTo("2");
                    assertThat(pages.clinician().number("failed")).isGreaterThan(30);
                    assertThat(pages.patient().number("failed")).isGreaterThan(30);
                });
                assertThat(pages.patient().attribute("sas", "data-sas")).isNotEqualTo(pages.clinician().attribute("sas", "data-sas"));
                assertThat(pages.clinician().number("decrypted")).isZero();
                assertThat(pages.patient().number("decrypted")).isZero();
                assertThat(pages.clinician().attribute("e2ee", "data-state")).isEqualTo("off");
            }
        }
    }

    /**
     * Rotation on the timer, made fast: a relay rewrites the welcome's rotation period to 3
     * seconds (the period is the server's to say; it is not a secret). Each page's sender key id
     * changes again and again while the other page keeps decrypting: the new key reaches the peer
     * before it is used, and the previous one stays long enough for frames in flight.
     */
    @Test
    void senderKeysRotateOnTheTimerWithoutInterruptingTheVisit() throws Exception {
        HeadlessChromium.require();
        UnaryOperator<String> fastRotation = message -> message.contains("\"type\":\"welcome\"")
                ? message.replaceFirst("\"keyRotationSeconds\":\\d+", "\"keyRotationSeconds\":3") : message;
        try (SignalingRelay relay = new SignalingRelay(baseUrl(), fastRotation)) {
            Pages pages = visitThrough(relay);
            try (HeadlessChromium clinician = pages.clinician(); HeadlessChromium patient = pages.patient()) {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                        assertThat(patient.number("decrypted")).isGreaterThan(30));
                java.util.Set<String> kids = new java.util.LinkedHashSet<>();
                long decryptedBefore = patient.number("decrypted");
                long failedBefore = patient.number("failed"); // frames that came before the keys did
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
                    kids.add(clinician.text("send-kid"));
                    assertThat(kids).hasSizeGreaterThanOrEqualTo(4);
                });
                long decryptedAfter = patient.number("decrypted");
                // frames kept flowing through at least three rotations, and few were lost to them
                assertThat(decryptedAfter - decryptedBefore).isGreaterThan(100);
                assertThat(patient.number("failed") - failedBefore).isLessThan((decryptedAfter - decryptedBefore) / 10);
                // old keys are dropped 5 s after the next arrives: with a key every 3 s, at most the
                // current one and the two before it are held, never the whole history
                assertThat(patient.text("known-kids").split(" ")).hasSizeLessThanOrEqualTo(3);
            }
        }
    }

    private record Pages(HeadlessChromium clinician, HeadlessChromium patient) {}

    private Pages visitThrough(SignalingRelay relay) {
        Booking booking = booking();
        Parameters started = started(booking);
        String link = patientLink(started);
        String ticket = ticket(booking.clinician(), booking.appointment());
        HeadlessChromium clinician = new HeadlessChromium();
        HeadlessChromium patient = new HeadlessChromium();
        clinician.open(relay.base() + "/telehealth/visit#ticket=" + ticket);
        clinician.click("join");
        patient.open(relay.base() + "/telehealth/visit#link=" + link);
        patient.click("join");
        return new Pages(clinician, patient);
    }

    /**
     * Replaces every participant's public key, as the other participant receives it, with one of
     * the relay's own, and its commitment with the commitment to that key: what a malicious
     * server must do to read the sender keys.
     */
    private static final class KeySubstitution implements UnaryOperator<String> {
        private final Map<String, byte[]> fakeKeys = new ConcurrentHashMap<>();

        @Override
        public String apply(String message) {
            JsonNode node = SignalClient.JSON.readTree(message);
            String type = node.get("type").stringValue();
            if (!type.equals("commit") && !type.equals("reveal")) {
                return message;
            }
            byte[] fake = fakeKeys.computeIfAbsent(node.get("from").stringValue(), from -> newPublicKey());
            ObjectNode changed = (ObjectNode) node;
            if (type.equals("commit")) {
                changed.put("commitment", Base64.getEncoder().encodeToString(sha256(fake)));
            } else {
                changed.put("publicKey", Base64.getEncoder().encodeToString(fake));
            }
            return SignalClient.JSON.writeValueAsString(changed);
        }

        private static byte[] newPublicKey() {
            try {
                KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
                generator.initialize(new ECGenParameterSpec("secp256r1"));
                ECPublicKey key = (ECPublicKey) generator.generateKeyPair().getPublic();
                byte[] raw = new byte[65];
                raw[0] = 4;
                copy(key.getW().getAffineX(), raw, 1);
                copy(key.getW().getAffineY(), raw, 33);
                return raw;
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        private static void copy(BigInteger value, byte[] into, int at) {
            byte[] bytes = value.toByteArray();
            int length = Math.min(bytes.length, 32);
            System.arraycopy(bytes, bytes.length - length, into, at + 32 - length, length);
        }

        private static byte[] sha256(byte[] bytes) {
            try {
                return MessageDigest.getInstance("SHA-256").digest(bytes);
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
