package health.carapace.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.boot.json.JsonWriter;

/**
 * An event's stored bytes are its Merkle leaf: the trail already holds millions written by Spring
 * Boot's {@code JsonWriter}, and verifiers hash what is stored. {@link EventCodec} writes the same
 * form directly (faster); this test keeps the writer's definition as it was and proves the bytes
 * equal — for fixed events and for random ones whose strings draw from every kind of character
 * the escaping treats differently (quotes, backslash, slash, each control character, DEL and the
 * C1 controls, non-ASCII, surrogate pairs and lone surrogates).
 */
class EventCodecTest {

    /** The definition the trail was written with until the direct encoder replaced it (unchanged). */
    private static final JsonWriter<AuditEvent> GENERAL_WRITER = JsonWriter.of(members -> {
        members.add("id", e -> e.id().toString());
        members.add("timestamp", e -> e.timestamp().toString());
        members.add("user", AuditEvent::user);
        members.add("action", e -> e.action().code());
        members.add("resource", AuditEvent::resource);
        members.add("context", e -> e.context()).usingMembers(context -> {
            context.add("ip", c -> c.ip());
            context.add("device_id", c -> c.deviceId());
            context.add("location", c -> c.location());
            context.add("app", c -> c.app()).whenNotNull();
        });
        members.add("outcome", e -> e.success() ? "success" : "failure");
        members.add("patient", AuditEvent::patient);
        members.add("purpose_of_use", AuditEvent::purposeOfUse);
        members.add("request_id", AuditEvent::requestId);
        members.add("break_glass", AuditEvent::breakGlass);
        members.add("query", e -> e.encryptedQuery() == null ? null : Base64.getEncoder().encodeToString(e.encryptedQuery()));
        members.add("reason", AuditEvent::reason).whenNotNull();
    });

    private static byte[] general(AuditEvent event) {
        return GENERAL_WRITER.writeToString(event).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aTypicalReadsEventIsWrittenAsTheGeneralWriterWroteIt() {
        AuditEvent event = new AuditEvent(UUID.fromString("0b6f7f2e-2a3c-4d7e-9a51-5c3f0e1d2b4a"),
                Instant.parse("2026-12-06T13:01:02.123456Z"), "svc-bench", AuditAction.VIEWED,
                "/fhir/Patient/7d1c", new AuditContext("127.0.0.1", null, null), true, "Patient/7d1c", null,
                "req-1", false, null);
        byte[] direct = EventCodec.encode(event);
        assertThat(new String(direct, StandardCharsets.UTF_8)).isEqualTo("{\"id\":\"0b6f7f2e-2a3c-4d7e-9a51-5c3f0e1d2b4a\","
                + "\"timestamp\":\"2026-12-06T13:01:02.123456Z\",\"user\":\"svc-bench\",\"action\":\"viewed\","
                + "\"resource\":\"/fhir/Patient/7d1c\",\"context\":{\"ip\":\"127.0.0.1\",\"device_id\":null,\"location\":null},"
                + "\"outcome\":\"success\",\"patient\":\"Patient/7d1c\",\"purpose_of_use\":null,\"request_id\":\"req-1\","
                + "\"break_glass\":false,\"query\":null}");
        assertThat(direct).isEqualTo(general(event));
    }

    @Test
    void everyOptionalMemberPresentOrAbsentIsWrittenAsTheGeneralWriterWroteIt() {
        for (int mask = 0; mask < 1 << 9; mask++) {
            AuditEvent event = new AuditEvent(UUID.randomUUID(), Instant.ofEpochSecond(1_800_000_000L, mask),
                    "user-" + mask, AuditAction.values()[mask % AuditAction.values().length], "/fhir/Patient/" + mask,
                    new AuditContext(bit(mask, 0) ? "2001:db8::1" : null, bit(mask, 1) ? "device-7" : null,
                            bit(mask, 2) ? "52.1,-0.5" : null, bit(mask, 3) ? "app-1" : null),
                    bit(mask, 4), bit(mask, 5) ? "Patient/p" + mask : null, bit(mask, 6) ? "TREAT" : null,
                    bit(mask, 7) ? "r" + mask : null, bit(mask, 8), bit(mask, 5) ? new byte[] {1, 2, (byte) mask} : null,
                    bit(mask, 6) ? "no-care-relationship" : null);
            assertThat(EventCodec.encode(event)).as("mask %s", mask).isEqualTo(general(event));
        }
    }

    @Test
    void stringsOfEveryKindOfCharacterAreEscapedAsTheGeneralWriterEscapedThem() {
        Random random = new Random(20261206L);
        for (int i = 0; i < 20_000; i++) {
            AuditEvent event = new AuditEvent(UUID.randomUUID(), Instant.ofEpochMilli(random.nextLong(0, 4_000_000_000_000L)),
                    text(random), AuditAction.VIEWED, text(random).replace("?", ""),
                    new AuditContext("10.0.0." + random.nextInt(256), null, null), random.nextBoolean(),
                    random.nextBoolean() ? text(random) : null, random.nextBoolean() ? text(random) : null,
                    random.nextBoolean() ? text(random) : null, random.nextBoolean(), null);
            assertThat(EventCodec.encode(event)).as("event %s", i).isEqualTo(general(event));
        }
    }

    @Test
    void eachSingleCharacterIsEscapedAsTheGeneralWriterEscapedIt() {
        for (int c = 0; c <= Character.MAX_VALUE; c++) {
            String user = "a" + (char) c + "b";
            AuditEvent event = new AuditEvent(new UUID(0, c), Instant.EPOCH, user, AuditAction.VIEWED, "/fhir",
                    new AuditContext(null, null, null), true, null, null, null, false, null);
            assertThat(EventCodec.encode(event)).as("U+%04X", c).isEqualTo(general(event));
        }
    }

    /** The detectors' feed reads every event back member for member, whatever its strings hold. */
    @Test
    void everyEventWrittenIsReadBackByTheDetectorsFeed() {
        Random random = new Random(61206L);
        for (int i = 0; i < 5_000; i++) {
            AuditEvent event = new AuditEvent(UUID.randomUUID(), Instant.ofEpochMilli(random.nextLong(0, 4_000_000_000_000L)),
                    text(random), AuditAction.values()[random.nextInt(AuditAction.values().length)],
                    text(random).replace("?", ""),
                    new AuditContext(random.nextBoolean() ? "10.0.0." + random.nextInt(256) : null,
                            random.nextBoolean() ? "device-" + i : null, random.nextBoolean() ? "52.1,-0.5" : null,
                            random.nextBoolean() ? "app-" + i : null),
                    random.nextBoolean(), random.nextBoolean() ? text(random) : null,
                    random.nextBoolean() ? text(random) : null, random.nextBoolean() ? text(random) : null,
                    random.nextBoolean(), random.nextBoolean() ? new byte[] {1, 2, 3} : null,
                    random.nextBoolean() ? "no-care-relationship" : null);
            health.carapace.audit.AuditQueries.StoredEvent read = SealedEventFeed.parse(EventCodec.encode(event));
            // what UTF-8 makes of a lone surrogate is what was stored, so that is what comes back
            assertThat(read).as("event %s", i).isEqualTo(new health.carapace.audit.AuditQueries.StoredEvent(event.id(),
                    event.timestamp(), utf8(event.user()), event.action().code(), utf8(event.resource()), event.context(),
                    event.success(), utf8(event.patient()), utf8(event.purposeOfUse()), utf8(event.requestId()),
                    event.breakGlass(), null, event.reason()));
        }
    }

    private static String utf8(String text) {
        return text == null ? null : new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }

    private static boolean bit(int mask, int bit) {
        return (mask & 1 << bit) != 0;
    }

    private static final String SPECIAL = "\"\\/\b\f\n\r\t\u0000\u0001\u001f\u007f\u0080\u009f\u00a0é€\u2028\u2029\ufeff";

    private static String text(Random random) {
        int length = random.nextInt(0, 24);
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            switch (random.nextInt(6)) {
                case 0 -> text.append(SPECIAL.charAt(random.nextInt(SPECIAL.length())));
                case 1 -> text.append((char) random.nextInt(0, 0x20));
                case 2 -> text.appendCodePoint(random.nextInt(0x1F300, 0x1F6FF)); // a surrogate pair
                case 3 -> text.append((char) random.nextInt(0xD800, 0xE000)); // a lone surrogate
                case 4 -> text.append((char) random.nextInt(0x80, 0x800));
                default -> text.append((char) random.nextInt(0x20, 0x7F));
            }
        }
        return text.toString();
    }
}
