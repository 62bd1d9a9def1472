package health.carapace.audit.internal;

import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditFeed;
import health.carapace.audit.AuditQueries;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;
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

    private static AuditQueries.StoredEvent parse(byte[] body) {
        JsonNode e = JSON.readTree(body);
        JsonNode context = e.path("context");
        return new AuditQueries.StoredEvent(UUID.fromString(text(e, "id")), Instant.parse(text(e, "timestamp")),
                text(e, "user"), text(e, "action"), text(e, "resource"),
                new AuditContext(text(context, "ip"), text(context, "device_id"), text(context, "location"), text(context, "app")),
                "success".equals(text(e, "outcome")), text(e, "patient"), text(e, "purpose_of_use"),
                text(e, "request_id"), e.path("break_glass").asBoolean(false), null, text(e, "reason"));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asString();
    }
}
