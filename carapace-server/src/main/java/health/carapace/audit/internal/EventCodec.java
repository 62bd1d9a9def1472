package health.carapace.audit.internal;

import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The one JSON form of an event. These exact bytes are stored and become the event's Merkle
 * leaf, so verifiers never re-serialise: they hash what is stored.
 *
 * <p>The form is the one Spring Boot's {@code JsonWriter} produced for the event's members (the
 * trail holds millions of events in it): members in this order, no whitespace, {@code null} for
 * an absent value except {@code app} and {@code reason}, which are left out when absent, and
 * strings escaped as that writer escapes them ({@code "}, {@code \}, {@code \b \f \n \r \t}, other
 * ISO control characters as upper-case {@code \}{@code uXXXX}, everything else as is). Written
 * here directly because it runs on every audited request: the general writer cost about 5% of a
 * read's server CPU. {@code EventCodecTest} holds the general writer's definition and proves the
 * bytes equal over every kind of character.
 */
final class EventCodec {

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private EventCodec() {
    }

    static byte[] encode(AuditEvent event) {
        StringBuilder json = new StringBuilder(512);
        json.append("{\"id\":");
        string(json, event.id().toString());
        json.append(",\"timestamp\":");
        string(json, event.timestamp().toString());
        json.append(",\"user\":");
        string(json, event.user());
        json.append(",\"action\":");
        string(json, event.action().code());
        json.append(",\"resource\":");
        string(json, event.resource());
        json.append(",\"context\":");
        AuditContext context = event.context();
        json.append("{\"ip\":");
        string(json, context.ip());
        json.append(",\"device_id\":");
        string(json, context.deviceId());
        json.append(",\"location\":");
        string(json, context.location());
        // only for requests made with an app's token, so the bytes of every other event are unchanged
        if (context.app() != null) {
            json.append(",\"app\":");
            string(json, context.app());
        }
        json.append('}');
        json.append(",\"outcome\":").append(event.success() ? "\"success\"" : "\"failure\"");
        json.append(",\"patient\":");
        string(json, event.patient());
        json.append(",\"purpose_of_use\":");
        string(json, event.purposeOfUse());
        json.append(",\"request_id\":");
        string(json, event.requestId());
        json.append(",\"break_glass\":").append(event.breakGlass());
        json.append(",\"query\":");
        string(json, event.encryptedQuery() == null ? null : Base64.getEncoder().encodeToString(event.encryptedQuery()));
        // only on refusals, so the bytes of every other event are unchanged
        if (event.reason() != null) {
            json.append(",\"reason\":");
            string(json, event.reason());
        }
        json.append('}');
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void string(StringBuilder json, String value) {
        if (value == null) {
            json.append("null");
            return;
        }
        json.append('"');
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            switch (ch) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\b' -> json.append("\\b");
                case '\f' -> json.append("\\f");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                default -> {
                    if (Character.isISOControl(ch)) {
                        json.append("\\u").append(HEX[ch >> 12 & 0xF]).append(HEX[ch >> 8 & 0xF])
                                .append(HEX[ch >> 4 & 0xF]).append(HEX[ch & 0xF]);
                    } else {
                        json.append(ch);
                    }
                }
            }
        }
        json.append('"');
    }
}
