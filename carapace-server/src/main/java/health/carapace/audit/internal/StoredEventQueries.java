package health.carapace.audit.internal;

import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditQueries;
import health.carapace.crypto.RecordCipher;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Audit queries over {@code audit.event}: indexed columns to find, the stored body to report. */
final class StoredEventQueries implements AuditQueries {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /**
     * What counts as a disclosure of a patient's records: every successful access or change. (Looking
     * at the audit trail itself is audited as "exported" but discloses no record, so it is left out.)
     */
    private static final List<String> DISCLOSED = List.of("viewed", "searched", "created", "modified", "deleted");

    private final JdbcClient jdbc;
    private final RecordCipher cipher;

    StoredEventQueries(DataSource dataSource, RecordCipher cipher) {
        this.jdbc = JdbcClient.create(dataSource);
        this.cipher = cipher;
    }

    @Override
    public List<StoredEvent> search(Criteria c) {
        List<Object> args = new ArrayList<>();
        String sql = "select body from audit.event where " + where(c, args)
                + " order by " + newestFirst(c) + " limit " + Math.max(1, Math.min(c.limit(), 10_000));
        return jdbc.sql(sql).params(args).query((rs, n) -> parse(rs.getBytes(1))).list();
    }

    /** A position is the last row's {@code recorded_at} (epoch microseconds) and id: {@code 1733380000000000.42}. */
    private static final java.util.regex.Pattern POSITION = java.util.regex.Pattern.compile("(\\d{1,19})\\.(\\d{1,19})");

    @Override
    public Page page(Criteria c, String after) {
        List<Object> args = new ArrayList<>();
        StringBuilder sql = new StringBuilder("select id, recorded_at, body from audit.event where ").append(where(c, args));
        if (after != null) {
            java.util.regex.Matcher position = POSITION.matcher(after);
            if (!position.matches()) {
                throw new IllegalArgumentException("not a page position");
            }
            long micros;
            long id;
            try {
                micros = Long.parseLong(position.group(1));
                id = Long.parseLong(position.group(2));
            } catch (NumberFormatException tooLarge) {
                throw new IllegalArgumentException("not a page position");
            }
            sql.append(" and (recorded_at, id) < (?, ?)");
            args.add(Timestamp.from(Instant.EPOCH.plus(micros, java.time.temporal.ChronoUnit.MICROS)));
            args.add(id);
        }
        int limit = Math.max(1, Math.min(c.limit(), 1_000));
        sql.append(" order by ").append(newestFirst(c)).append(" limit ").append(limit + 1);
        record Row(long id, Instant recordedAt, StoredEvent event) {}
        List<Row> rows = jdbc.sql(sql.toString()).params(args)
                .query((rs, n) -> new Row(rs.getLong(1), rs.getTimestamp(2).toInstant(), parse(rs.getBytes(3)))).list();
        String next = null;
        if (rows.size() > limit) {
            Row last = rows.get(limit - 1);
            next = java.time.temporal.ChronoUnit.MICROS.between(Instant.EPOCH, last.recordedAt()) + "." + last.id();
            rows = rows.subList(0, limit);
        }
        return new Page(rows.stream().map(Row::event).toList(), next);
    }

    /**
     * Newest first. With one action (and no patient or principal, whose own indexes serve better) the
     * order names the action first: the same order, since every row has that action, but one only
     * {@code event_action (action, recorded_at, id)} gives without sorting, so PostgreSQL reads 26
     * rows of it. Otherwise it prefers {@code event_recorded} for an action it believes common,
     * expecting one every few rows, and reads every newer event of other kinds first (25,000 in the
     * console's measurement: 15-44 ms a page). The action stays a bound array ({@code = any(?)}): an
     * equality with a constant would let the planner drop the action from the order again.
     */
    private static String newestFirst(Criteria c) {
        boolean oneAction = c.actions() != null && c.actions().stream().distinct().count() == 1;
        return oneAction && c.patient() == null && c.user() == null ? "action desc, recorded_at desc, id desc"
                : "recorded_at desc, id desc";
    }

    private static String where(Criteria c, List<Object> args) {
        StringBuilder sql = new StringBuilder("true");
        if (c.patient() != null) {
            sql.append(" and patient = ?");
            args.add(c.patient());
        }
        if (c.user() != null) {
            sql.append(" and actor = ?");
            args.add(c.user());
        }
        if (c.from() != null) {
            sql.append(" and recorded_at >= ?");
            args.add(Timestamp.from(c.from()));
        }
        if (c.to() != null) {
            sql.append(" and recorded_at < ?");
            args.add(Timestamp.from(c.to()));
        }
        if (c.actions() != null && !c.actions().isEmpty()) {
            sql.append(" and action = any(?)");
            args.add(c.actions().toArray(String[]::new));
        }
        if (c.success() != null) {
            // a constant, not a parameter: a generic plan (pgjdbc prepares a statement on its fifth use)
            // cannot use the partial index of failures (V40), whatever the value turns out to be
            sql.append(c.success() ? " and outcome = 'success'" : " and outcome = 'failure'");
        }
        return sql.toString();
    }

    @Override
    public List<StoredEvent> disclosures(String patient, Instant since) {
        return jdbc.sql(DISCLOSURES + " order by recorded_at, id")
                .params(patient, Timestamp.from(since), DISCLOSED.toArray(String[]::new))
                .query((rs, n) -> parse(rs.getBytes(1)))
                .list();
    }

    @Override
    public List<StoredEvent> recentDisclosures(String patient, Instant since, int newest) {
        return jdbc.sql(DISCLOSURES + " order by recorded_at desc, id desc limit ?")
                .params(patient, Timestamp.from(since), DISCLOSED.toArray(String[]::new), Math.max(1, Math.min(newest, 1_000)))
                .query((rs, n) -> parse(rs.getBytes(1)))
                .list();
    }

    /** A patient's disclosures since an instant (patient, since, the disclosed actions): the accounting's rows. */
    private static final String DISCLOSURES = """
            select body from audit.event
            where patient = ? and recorded_at >= ? and outcome = 'success' and action = any(?)""";

    @Override
    public List<Usage> usage(String user, Instant since) {
        return jdbc.sql("""
                select distinct action, split_part(r.resource, '/', 2), split_part(r.resource, '/', 3)
                from audit.event, lateral (select convert_from(body, 'UTF8')::jsonb ->> 'resource' as resource) r
                where actor = ? and recorded_at >= ? and outcome = 'success'""")
                .params(user, Timestamp.from(since))
                .query((rs, n) -> new Usage(rs.getString(1), rs.getString(2), rs.getString(3)))
                .list();
    }

    @Override
    public boolean actedOutside(String user, Instant since, java.util.Collection<String> patients) {
        return jdbc.sql("""
                select exists (
                  select 1
                  from audit.event, lateral (select convert_from(body, 'UTF8')::jsonb ->> 'resource' as resource) r
                  where actor = ? and recorded_at >= ? and outcome = 'success' and patient is not null
                    and not (patient = any(?)) and action <> 'exported'
                    and split_part(r.resource, '/', 2) = 'fhir'
                    and split_part(r.resource, '/', 3) not in ('', 'audit', 'AuditEvent'))""")
                .params(user, Timestamp.from(since), patients.toArray(String[]::new))
                .query(Boolean.class)
                .single();
    }

    private StoredEvent parse(byte[] body) {
        JsonNode e = JSON.readTree(body);
        JsonNode context = e.path("context");
        UUID id = UUID.fromString(text(e, "id"));
        String query = null;
        String sealed = text(e, "query");
        if (sealed != null) {
            query = new String(cipher.decrypt(DurableAuditTrail.QUERY_KEY, Base64.getDecoder().decode(sealed),
                    ("audit-query/" + id).getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
        }
        return new StoredEvent(id, Instant.parse(text(e, "timestamp")), text(e, "user"), text(e, "action"),
                text(e, "resource"), new AuditContext(text(context, "ip"), text(context, "device_id"),
                        text(context, "location"), text(context, "app")),
                "success".equals(text(e, "outcome")), text(e, "patient"), text(e, "purpose_of_use"),
                text(e, "request_id"), e.path("break_glass").asBoolean(false), query, text(e, "reason"));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asString();
    }
}
