package health.carapace.audit.internal;

import health.carapace.audit.AuditEvent;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.springframework.boot.json.JsonWriter;

/**
 * The one JSON form of an event. These exact bytes are stored and become the event's Merkle
 * leaf, so verifiers never re-serialise: they hash what is stored.
 */
final class EventCodec {

    private static final JsonWriter<AuditEvent> WRITER = JsonWriter.of(members -> {
        members.add("id", e -> e.id().toString());
        members.add("timestamp", e -> e.timestamp().toString());
        members.add("user", AuditEvent::user);
        members.add("action", e -> e.action().code());
        members.add("resource", AuditEvent::resource);
        members.add("context", e -> e.context()).usingMembers(context -> {
            context.add("ip", c -> c.ip());
            context.add("device_id", c -> c.deviceId());
            context.add("location", c -> c.location());
            // only for requests made with an app's token, so the bytes of every other event are unchanged
            context.add("app", c -> c.app()).whenNotNull();
        });
        members.add("outcome", e -> e.success() ? "success" : "failure");
        members.add("patient", AuditEvent::patient);
        members.add("purpose_of_use", AuditEvent::purposeOfUse);
        members.add("request_id", AuditEvent::requestId);
        members.add("break_glass", AuditEvent::breakGlass);
        members.add("query", e -> e.encryptedQuery() == null ? null : Base64.getEncoder().encodeToString(e.encryptedQuery()));
        // only on refusals, so the bytes of every other event are unchanged
        members.add("reason", AuditEvent::reason).whenNotNull();
    });

    private EventCodec() {
    }

    static byte[] encode(AuditEvent event) {
        return WRITER.writeToString(event).getBytes(StandardCharsets.UTF_8);
    }
}
