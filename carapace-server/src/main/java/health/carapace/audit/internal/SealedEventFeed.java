package health.carapace.audit.internal;

import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditFeed;
import health.carapace.audit.AuditQueries;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.json.JsonMapper;

/** {@link AuditFeed} over {@code audit.leaf} joined to the stored event bodies (the relay's query). */
final class SealedEventFeed implements AuditFeed {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final JdbcClient jdbc;

    SealedEventFeed(DataSource dataSource) {
        this.jdbc = JdbcClient.create(dataSource);
    }

    @Override
    public List<SealedEvent> after(long afterLeaf, int limit) {
        return jdbc.sql("""
                select l.leaf_index, e.body
                from audit.leaf l join audit.event e on e.id = l.event_id
                where l.leaf_index > ? order by l.leaf_index limit ?""")
                .params(afterLeaf, Math.max(1, Math.min(limit, 50_000)))
                .query((rs, n) -> new SealedEvent(rs.getLong(1), parse(rs.getBytes(2))))
                .list();
    }

    @Override
    public long lastSealedLeaf() {
        return jdbc.sql("select coalesce(max(leaf_index), -1) from audit.leaf").query(Long.class).single();
    }

    /**
     * An event's stored JSON read in one pass with Jackson's streaming parser (the detectors read
     * every sealed event; building a tree of each was half of their thread's time). Members as
     * {@code EventCodec} writes them; an absent or null member is null, any other scalar its text.
     */
    static AuditQueries.StoredEvent parse(byte[] body) {
        Map<String, String> event = new HashMap<>();
        Map<String, String> context = new HashMap<>();
        boolean breakGlass = false;
        try (JsonParser json = JSON.createParser(body)) {
            if (json.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalStateException("a stored audit event is not a JSON object");
            }
            while (json.nextToken() == JsonToken.PROPERTY_NAME) {
                String name = json.currentName();
                JsonToken value = json.nextToken();
                if (name.equals("context") && value == JsonToken.START_OBJECT) {
                    while (json.nextToken() == JsonToken.PROPERTY_NAME) {
                        String member = json.currentName();
                        scalar(json, json.nextToken(), member, context);
                    }
                } else if (name.equals("break_glass")) {
                    breakGlass = value == JsonToken.VALUE_TRUE
                            || value == JsonToken.VALUE_STRING && json.getString().trim().equalsIgnoreCase("true");
                } else {
                    scalar(json, value, name, event);
                }
            }
        }
        return new AuditQueries.StoredEvent(UUID.fromString(event.get("id")), Instant.parse(event.get("timestamp")),
                event.get("user"), event.get("action"), event.get("resource"),
                new AuditContext(context.get("ip"), context.get("device_id"), context.get("location"), context.get("app")),
                "success".equals(event.get("outcome")), event.get("patient"), event.get("purpose_of_use"),
                event.get("request_id"), breakGlass, null, event.get("reason"));
    }

    private static void scalar(JsonParser json, JsonToken value, String name, Map<String, String> into) {
        if (value.isStructStart()) {
            json.skipChildren();
            into.remove(name);
        } else if (value == JsonToken.VALUE_NULL) {
            into.remove(name);
        } else {
            into.put(name, json.getString());
        }
    }
}
