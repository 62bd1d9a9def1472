package health.carapace.incident.internal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.incident.Breach;
import health.carapace.incident.Clocks;
import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Incidents;
import health.carapace.incident.RiskAssessment;
import health.carapace.incident.Severity;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * Incidents in {@code incident.incident}: opened or joined by detections (in the detector runner's
 * transaction), moved through their states by people (each transition audited and on the timeline).
 */
final class IncidentStore implements Incidents {

    static final Duration ISOLATE_WITHIN = Duration.ofMinutes(15);
    static final Duration ALERT_WITHIN = Duration.ofMinutes(60);
    static final Duration PLAN_WITHIN = Duration.ofHours(4);
    static final int HIPAA_DAYS = 60;
    /** Principals whose name starts with this are a drill's synthetic ones (docs/INCIDENTS.md). */
    static final String DRILL_PREFIX = "drill-";
    private static final Set<String> RESOLUTIONS = Set.of("resolved", "false-positive", "duplicate", "drill");
    private static final Pattern PRINCIPAL = Pattern.compile("[A-Za-z0-9:._@-]{1,100}");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final AuditTrail audit;
    private final Clock clock;
    private final Duration dedupWindow;
    /** Where the alerts of what this store opens or escalates are queued, in the same transaction (null: none). */
    private final AlertOutbox outbox;

    IncidentStore(DataSource dataSource, TransactionTemplate transactions, AuditTrail audit, Clock clock,
            Duration dedupWindow) {
        this(dataSource, transactions, audit, clock, dedupWindow, null);
    }

    IncidentStore(DataSource dataSource, TransactionTemplate transactions, AuditTrail audit, Clock clock,
            Duration dedupWindow, AlertOutbox outbox) {
        this.jdbc = JdbcClient.create(dataSource);
        this.transactions = transactions;
        this.audit = audit;
        this.clock = clock;
        this.dedupWindow = dedupWindow;
        this.outbox = outbox;
    }

    /** An incident a detection opened (not joined). */
    record Opened(UUID id, Detection detection) {}

    /**
     * Opens or joins an incident per detection, in the caller's transaction. A detection joins the
     * incident of the same detector and subject whose window it falls in while that one is open or
     * acknowledged; once it is contained, resolved or closed, the next detection opens a new one.
     */
    List<Opened> record(List<Detection> detections) {
        // The detections of a batch that fall in one incident are recorded together: one upsert and one
        // insert per kind of reference, not three statements per detection. A principal past a
        // detector's threshold is detected at each of its events (about 120 a batch when the bench read
        // 1,000,000 patients, where counting each detection's references cost more PostgreSQL than the
        // reads themselves: issue 13).
        Map<String, List<Detection>> byIncident = new LinkedHashMap<>();
        for (Detection d : detections) {
            long window = d.at().toEpochMilli() / dedupWindow.toMillis();
            byIncident.computeIfAbsent(d.detector() + "|" + d.subject() + "|" + window, k -> new ArrayList<>()).add(d);
        }
        List<Opened> opened = new ArrayList<>();
        Instant now = clock.instant();
        for (Map.Entry<String, List<Detection>> entry : byIncident.entrySet()) {
            List<Detection> group = entry.getValue();
            Detection d = group.get(0);
            Instant first = group.stream().map(Detection::at).min(Instant::compareTo).orElseThrow();
            Instant last = group.stream().map(Detection::at).max(Instant::compareTo).orElseThrow();
            var row = jdbc.sql("""
                    insert into incident.incident (id, dedup_key, detector, severity, principal, address, state, drill,
                        first_event_at, last_event_at, detected_at, events)
                    values (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)
                    on conflict (dedup_key) do update set events = incident.incident.events + excluded.events,
                        last_event_at = greatest(incident.incident.last_event_at, excluded.last_event_at)
                    returning id, (xmax = 0)""")
                    .params(UUID.randomUUID(), entry.getKey(), d.detector(), d.severity().code(), d.principal(),
                            d.address(), d.drill(), Timestamp.from(first), Timestamp.from(last), Timestamp.from(now),
                            group.size())
                    .query((rs, n) -> new Object[] {rs.getObject(1, UUID.class), rs.getBoolean(2)})
                    .single();
            UUID id = (UUID) row[0];
            addReferences(id, group);
            if ((Boolean) row[1]) {
                timeline(id, now, AuditedAccess.SELF, "detected", d.detail());
                audit.recordInTransaction(List.of(event(AuditedAccess.SELF, id, AuditContext.none())));
                if (outbox != null) {
                    outbox.enqueue(id, "opened", AlertSettings.Contact.PRIMARY, now);
                }
                opened.add(new Opened(id, d));
            }
        }
        return opened;
    }

    /**
     * The patients and audit events of {@code detections} not yet referenced by the incident, in the
     * order detected, while it holds fewer than {@link Incident#MAX_REFERENCES} of each: one statement
     * per kind, which counts the incident's references once.
     */
    private void addReferences(UUID id, List<Detection> detections) {
        String[] patients = detections.stream().map(Detection::patient).filter(java.util.Objects::nonNull).distinct()
                .toArray(String[]::new);
        if (patients.length > 0) {
            jdbc.sql("""
                    insert into incident.incident_patient (incident_id, patient)
                    select ?, u.patient from unnest(?::text[]) with ordinality as u (patient, n)
                    where not exists (select 1 from incident.incident_patient p where p.incident_id = ? and p.patient = u.patient)
                    order by u.n
                    limit greatest(0, ? - (select count(*) from incident.incident_patient where incident_id = ?))
                    on conflict do nothing""")
                    .params(id, patients, id, Incident.MAX_REFERENCES, id).update();
        }
        // audit-integrity watches the trail itself: no event to name
        List<Detection> withEvents = detections.stream().filter(d -> d.eventId() != null).toList();
        if (!withEvents.isEmpty()) {
            jdbc.sql("""
                    insert into incident.incident_event (incident_id, event_id, leaf_index)
                    select ?, u.event_id, u.leaf_index from unnest(?::uuid[], ?::bigint[]) with ordinality as u (event_id, leaf_index, n)
                    where not exists (select 1 from incident.incident_event e where e.incident_id = ? and e.event_id = u.event_id)
                    order by u.n
                    limit greatest(0, ? - (select count(*) from incident.incident_event where incident_id = ?))
                    on conflict do nothing""")
                    .params(id, withEvents.stream().map(Detection::eventId).toArray(UUID[]::new),
                            withEvents.stream().map(Detection::leafIndex).toArray(Long[]::new), id,
                            Incident.MAX_REFERENCES, id)
                    .update();
        }
    }

    @Override
    public List<Incident> list(Filter f) {
        return page(f, null);
    }

    @Override
    public List<Incident> page(Filter f, Position after) {
        List<Object> args = new ArrayList<>();
        String sql = "select * from incident.incident where " + where(f, args);
        if (after != null) {
            // newest first, ties by id: the rows after a position are older, or as old with a greater id
            sql += " and (detected_at < ? or (detected_at = ? and id > ?))";
            args.add(Timestamp.from(after.detectedAt()));
            args.add(Timestamp.from(after.detectedAt()));
            args.add(after.id());
        }
        sql += " order by detected_at desc, id limit " + Math.max(1, Math.min(f.limit(), 1000));
        Instant now = clock.instant();
        return jdbc.sql(sql).params(args)
                .query((rs, n) -> incident(rs, now, List.of(), List.of(), List.of())).list();
    }

    @Override
    public long count(Filter f) {
        List<Object> args = new ArrayList<>();
        return jdbc.sql("select count(*) from incident.incident where " + where(f, args)).params(args)
                .query(Long.class).single();
    }

    @Override
    public Open open(int newest, long cap) {
        // Two statements for the whole card, each on incident_state_detected (V39) per state: the
        // counts stop at the cap, and each state gives at most its newest few before they are merged.
        List<IncidentState> states = java.util.Arrays.stream(IncidentState.values()).filter(IncidentState::open).toList();
        int shown = Math.max(1, Math.min(newest, 1000));
        StringBuilder counts = new StringBuilder("select ");
        StringBuilder newestOfEach = new StringBuilder("select * from (");
        List<Object> caps = new ArrayList<>();
        for (IncidentState state : states) {
            String where = "incident.incident where state = '" + constant(state.code()) + "'";
            if (!caps.isEmpty()) {
                counts.append(", ");
                newestOfEach.append(" union all ");
            }
            counts.append("(select count(*) from (select 1 from ").append(where).append(" limit ?) capped)");
            caps.add(Math.max(0, cap));
            newestOfEach.append("(select * from ").append(where).append(" order by detected_at desc, id limit ")
                    .append(shown).append(")");
        }
        newestOfEach.append(") newest order by detected_at desc, id limit ").append(shown);
        java.util.Map<IncidentState, Long> counted = new java.util.EnumMap<>(IncidentState.class);
        jdbc.sql(counts.toString()).params(caps).query(rs -> {
            for (int i = 0; i < states.size(); i++) {
                counted.put(states.get(i), rs.getLong(i + 1));
            }
        });
        Instant now = clock.instant();
        return new Open(counted, jdbc.sql(newestOfEach.toString())
                .query((rs, n) -> incident(rs, now, List.of(), List.of(), List.of())).list());
    }

    /** The filter as SQL conditions (values bound through {@code args}); the limit is the caller's. */
    private static String where(Filter f, List<Object> args) {
        StringBuilder sql = new StringBuilder("true");
        // State and severity as constants (enum codes, never input): with a parameter, the generic plan
        // a prepared statement gets after five uses read the newest-first index past every open incident
        // looking for a rare state (8 ms at 25,000 incidents on every dashboard visit) instead of using
        // incident_state_detected (V39).
        if (f.state() != null) {
            sql.append(" and state = '").append(constant(f.state().code())).append("'");
        }
        if (f.severity() != null) {
            sql.append(" and severity = '").append(constant(f.severity().code())).append("'");
        }
        if (f.detector() != null) {
            sql.append(" and detector = ?");
            args.add(f.detector());
        }
        if (f.principal() != null) {
            sql.append(" and principal = ?");
            args.add(f.principal());
        }
        if (f.since() != null) {
            sql.append(" and detected_at >= ?");
            args.add(Timestamp.from(f.since()));
        }
        if (f.drill() != null) {
            sql.append(" and drill = ?");
            args.add(f.drill());
        }
        return sql.toString();
    }

    private static String constant(String code) {
        if (!code.matches("[a-z_]+")) {
            throw new IllegalStateException("an enum code to write into SQL must be [a-z_]+");
        }
        return code;
    }

    @Override
    public Optional<Incident> find(UUID id) {
        Instant now = clock.instant();
        List<String> patients = jdbc.sql("select patient from incident.incident_patient where incident_id = ? order by patient")
                .param(id).query(String.class).list();
        List<UUID> events = jdbc.sql("select event_id from incident.incident_event where incident_id = ? order by leaf_index")
                .param(id).query(UUID.class).list();
        List<Incident.TimelineEntry> timeline = jdbc.sql(
                        "select at, actor, entry, detail from incident.timeline where incident_id = ? order by id")
                .param(id)
                .query((rs, n) -> new Incident.TimelineEntry(rs.getTimestamp(1).toInstant(), rs.getString(2),
                        rs.getString(3), rs.getString(4)))
                .list();
        return jdbc.sql("select * from incident.incident where id = ?").param(id)
                .query((rs, n) -> incident(rs, now, patients, events, timeline)).optional();
    }

    @Override
    public Incident acknowledge(UUID id, String actor) {
        return transition(id, IncidentState.ACKNOWLEDGED, actor, null,
                "update incident.incident set state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ? where id = ?",
                now -> new Object[] {Timestamp.from(now), actor, id});
    }

    @Override
    public Incident close(UUID id, IncidentState target, String resolution, String actor) {
        if (target != IncidentState.RESOLVED && target != IncidentState.CLOSED) {
            throw new Refused(Refused.Reason.INVALID, "an incident is closed as resolved or closed");
        }
        if (resolution == null || !RESOLUTIONS.contains(resolution)) {
            throw new Refused(Refused.Reason.INVALID, "a resolution is one of " + RESOLUTIONS.stream().sorted().toList());
        }
        // A closed or resolved incident frees its de-duplication key: the next detection opens a new one.
        return transition(id, target, actor, resolution, target == IncidentState.CLOSED
                        ? "update incident.incident set state = 'closed', closed_at = ?, resolution = ?,"
                                + " dedup_key = dedup_key || '|closed|' || id::text where id = ?"
                        : "update incident.incident set state = 'resolved', closed_at = ?, resolution = ?,"
                                + " dedup_key = " + RELEASED_KEY + " where id = ?",
                now -> new Object[] {Timestamp.from(now), resolution, id});
    }

    /**
     * Marks an incident contained (containment actions are stamped by their own entries). It frees
     * its de-duplication key, as closing does: activity after containment (the snooper signing in
     * again within the hour) opens a new incident and alerts again instead of joining this one.
     */
    Incident contained(UUID id, String actor, String action) {
        return transition(id, IncidentState.CONTAINED, actor, action,
                "update incident.incident set state = 'contained', contained_at = coalesce(contained_at, ?),"
                        + " dedup_key = " + RELEASED_KEY + " where id = ?",
                now -> new Object[] {Timestamp.from(now), id});
    }

    /** The de-duplication key of a contained or resolved incident: its own, never joined again. */
    private static final String RELEASED_KEY = "case when dedup_key like '%|released|%' or dedup_key like '%|closed|%'"
            + " then dedup_key else dedup_key || '|released|' || id::text end";

    /**
     * Stamps a containment action that isolated nothing (nothing to disable, a range that was not
     * blocked, a range or lockdown lifted): on the timeline only, state and clocks unchanged.
     */
    Incident containmentNoted(UUID id, String actor, String action) {
        return annotate(id, actor, "containment", action, null, null);
    }

    @Override
    public Incident assessRisk(UUID id, RiskAssessment assessment, String actor) {
        return annotate(id, actor, "risk-assessed", assessment.conclusion().name().toLowerCase(java.util.Locale.ROOT),
                "update incident.incident set risk = ?::jsonb, risk_assessed_at = ? where id = ?",
                now -> new Object[] {JSON.writeValueAsString(assessment), Timestamp.from(now), id});
    }

    @Override
    public Incident recordBreach(UUID id, Breach breach, String actor) {
        Incident incident = find(id).orElseThrow(IncidentStore::notFound);
        if (incident.drill()) {
            throw new Refused(Refused.Reason.CONFLICT, "a drill incident is never a breach");
        }
        // §164.404(a)(2): discovery is the first day the breach is known, or would have been with reasonable
        // diligence; the detection is that day at the latest, and nothing is discovered before it happened.
        // A later date would push every HIPAA deadline back (review M7).
        java.time.LocalDate detected = incident.detectedAt().atZone(java.time.ZoneOffset.UTC).toLocalDate();
        java.time.LocalDate first = incident.firstEventAt().atZone(java.time.ZoneOffset.UTC).toLocalDate();
        if (breach.discoveredOn().isAfter(detected) || breach.discoveredOn().isBefore(first)) {
            throw new Refused(Refused.Reason.INVALID,
                    "discoveredOn must lie between the day of the first event and the day of detection");
        }
        return annotate(id, actor, "breach-recorded", Integer.toString(breach.affected()),
                "update incident.incident set breach = ?::jsonb where id = ?",
                now -> new Object[] {JSON.writeValueAsString(breach), id});
    }

    /** A stored breach determination. */
    static Breach breach(String json) {
        return JSON.readValue(json, Breach.class);
    }

    static Refused notFound() {
        return new Refused(Refused.Reason.NOT_FOUND, "no incident with that id");
    }

    private Incident transition(UUID id, IncidentState target, String actor, String detail, String update,
            java.util.function.Function<Instant, Object[]> args) {
        requireActor(actor);
        transactions.executeWithoutResult(status -> {
            String current = jdbc.sql("select state from incident.incident where id = ? for update").param(id)
                    .query(String.class).optional().orElseThrow(IncidentStore::notFound);
            IncidentState from = IncidentState.of(current);
            if (!from.mayMoveTo(target)) {
                throw new Refused(Refused.Reason.CONFLICT,
                        "an incident that is " + from.code() + " cannot become " + target.code());
            }
            Instant now = clock.instant();
            jdbc.sql(update).params(args.apply(now)).update();
            timeline(id, now, actor, target.code(), detail);
            audit.recordInTransaction(List.of(event(actor, id, AuditContext.none())));
        });
        return find(id).orElseThrow(IncidentStore::notFound);
    }

    private Incident annotate(UUID id, String actor, String entry, String detail, String update,
            java.util.function.Function<Instant, Object[]> args) {
        requireActor(actor);
        transactions.executeWithoutResult(status -> {
            String state = jdbc.sql("select state from incident.incident where id = ? for update").param(id)
                    .query(String.class).optional().orElseThrow(IncidentStore::notFound);
            if (IncidentState.of(state) == IncidentState.CLOSED) {
                throw new Refused(Refused.Reason.CONFLICT, "a closed incident cannot be changed");
            }
            Instant now = clock.instant();
            if (update != null) {
                jdbc.sql(update).params(args.apply(now)).update();
            }
            timeline(id, now, actor, entry, detail);
            audit.recordInTransaction(List.of(event(actor, id, AuditContext.none())));
        });
        return find(id).orElseThrow(IncidentStore::notFound);
    }

    /** Stamps the first alert that reached the compliance officer (stops the alert clock). */
    void alerted(UUID id, String channel) {
        transactions.executeWithoutResult(status -> {
            Instant now = clock.instant();
            jdbc.sql("update incident.incident set alerted_at = coalesce(alerted_at, ?) where id = ?")
                    .params(Timestamp.from(now), id).update();
            timeline(id, now, AuditedAccess.SELF, "alerted", channel);
        });
    }

    /**
     * Claims the open incidents nobody acknowledged within {@code after} for escalation: each is
     * claimed by exactly one node (the update decides), stamped, and returned.
     */
    List<UUID> claimEscalations(Duration after) {
        return transactions.execute(status -> {
            Instant now = clock.instant();
            List<UUID> claimed = jdbc.sql("update incident.incident set escalated_at = ? "
                            + "where state = 'open' and escalated_at is null and detected_at < ? returning id")
                    .params(Timestamp.from(now), Timestamp.from(now.minus(after))).query(UUID.class).list();
            for (UUID id : claimed) {
                timeline(id, now, AuditedAccess.SELF, "escalated", "not-acknowledged");
                if (outbox != null) {
                    outbox.enqueue(id, "escalated", AlertSettings.Contact.ESCALATION, now);
                }
            }
            return claimed;
        });
    }

    /** Adds a timeline entry in the caller's transaction. */
    void timeline(UUID id, Instant at, String actor, String entry, String detail) {
        jdbc.sql("insert into incident.timeline (incident_id, at, actor, entry, detail) values (?, ?, ?, ?, ?)")
                .params(id, Timestamp.from(at), actor, entry, detail).update();
    }

    private static void requireActor(String actor) {
        if (actor == null || !PRINCIPAL.matcher(actor).matches()) {
            throw new Refused(Refused.Reason.INVALID, "the actor is a principal name");
        }
    }

    static AuditEvent event(String actor, UUID id, AuditContext context) {
        return AuditEvent.now(actor, AuditAction.ADMIN_CHANGE, "/admin/incidents/" + id, context, true, null, null,
                health.carapace.platform.logging.RequestIds.current());
    }

    private Incident incident(ResultSet rs, Instant now, List<String> patients, List<UUID> events,
            List<Incident.TimelineEntry> timeline) throws SQLException {
        Instant detected = instant(rs, "detected_at");
        Instant contained = instant(rs, "contained_at");
        Instant closed = instant(rs, "closed_at");
        Instant acknowledged = instant(rs, "acknowledged_at");
        Instant alerted = instant(rs, "alerted_at");
        Instant assessed = instant(rs, "risk_assessed_at");
        String breachJson = rs.getString("breach");
        String riskJson = rs.getString("risk");
        Breach breach = breachJson == null ? null : JSON.readValue(breachJson, Breach.class);
        RiskAssessment risk = riskJson == null ? null : JSON.readValue(riskJson, RiskAssessment.class);
        IncidentState state = IncidentState.of(rs.getString("state"));
        return new Incident(rs.getObject("id", UUID.class), rs.getString("detector"),
                Severity.of(rs.getString("severity")), rs.getString("principal"), rs.getString("address"), state,
                rs.getBoolean("drill"), instant(rs, "first_event_at"), instant(rs, "last_event_at"), detected,
                rs.getInt("events"), acknowledged, rs.getString("acknowledged_by"), contained, closed,
                rs.getString("resolution"),
                clocks(now, detected, first(contained, closed), first(alerted, acknowledged, closed),
                        first(assessed, closed), breach, state),
                patients, events, timeline, breach, risk);
    }

    /** The clocks of an incident; a response clock stops at its own event or when the incident is closed. */
    static Clocks clocks(Instant now, Instant detected, Instant isolated, Instant alerted, Instant planned, Breach breach,
            IncidentState state) {
        Instant isolateBy = detected.plus(ISOLATE_WITHIN);
        Instant alertBy = detected.plus(ALERT_WITHIN);
        Instant planBy = detected.plus(PLAN_WITHIN);
        List<String> overdue = new ArrayList<>();
        if ((isolated == null ? now : isolated).isAfter(isolateBy)) {
            overdue.add("isolate");
        }
        if ((alerted == null ? now : alerted).isAfter(alertBy)) {
            overdue.add("alert");
        }
        if ((planned == null ? now : planned).isAfter(planBy)) {
            overdue.add("plan");
        }
        Instant individualsBy = null;
        Instant hhsBy = null;
        Instant mediaBy = null;
        if (breach != null) {
            LocalDate discovered = breach.discoveredOn();
            individualsBy = startOf(discovered.plusDays(HIPAA_DAYS));
            hhsBy = breach.hhsWithinSixtyDays() ? individualsBy
                    : startOf(LocalDate.of(discovered.getYear(), 12, 31).plusDays(HIPAA_DAYS));
            mediaBy = breach.mediaNotice() ? individualsBy : null;
            boolean open = state != IncidentState.CLOSED;
            if (open && now.isAfter(individualsBy)) {
                overdue.add("individuals");
            }
            if (open && now.isAfter(hhsBy)) {
                overdue.add("hhs");
            }
            if (open && mediaBy != null && now.isAfter(mediaBy)) {
                overdue.add("media");
            }
        }
        List<String> met = new ArrayList<>();
        if (isolated != null) {
            met.add("isolate");
        }
        if (alerted != null) {
            met.add("alert");
        }
        if (planned != null) {
            met.add("plan");
        }
        return new Clocks(isolateBy, alertBy, planBy, individualsBy, hhsBy, mediaBy, overdue, met);
    }

    /** The end of the day of a deadline (the last day counts), as an instant in UTC. */
    private static Instant startOf(LocalDate lastDay) {
        return lastDay.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    private static Instant first(Instant... instants) {
        Instant first = null;
        for (Instant i : instants) {
            if (i != null && (first == null || i.isBefore(first))) {
                first = i;
            }
        }
        return first;
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }
}
