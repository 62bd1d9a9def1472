package health.carapace.records.internal;

import ca.uhn.fhir.rest.api.server.IBundleProvider;
import health.carapace.access.Interaction;
import health.carapace.audit.AuditAction;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The criteria of a conditional create ({@code If-None-Exist}, also in transactions), conditional
 * update and conditional delete, resolved by the same search as {@code GET Type?criteria}: through
 * the blind indexes, narrowed in SQL to the caller's scope for searching the type, SSN identifiers
 * never matching for a caller without view:ssn and SSN criteria refused for them. A record outside
 * the caller's scope is never a match, so the answer reveals nothing the caller could not search
 * for (docs/ACCESS.md, "Conditional writes"). Criteria that blind indexes cannot serve are refused
 * by the search with the message that names what can be used. More than one match is a 412.
 *
 * <p>Conditional writes of one type are serialised (a transaction-scoped advisory lock keyed by
 * the type alone, never by the criteria, which may be PHI), so two concurrent conditional creates
 * cannot both find nothing and both create. The lock is taken only after the caller's search is
 * decided, waited for at most {@link #LOCK_TIMEOUT}, and a transaction takes its types' locks in
 * one order ({@link #lockInOrder}), before any record's row: the first step of the global lock
 * order of ADR 0035 (then the rows of the records changed, by type and id; then shredding locks,
 * shared).
 */
final class ConditionalCriteria {

    /** Parameters that shape a result; meaningless, and refused, as criteria. */
    private static final Set<String> NOT_CRITERIA = Set.of("_count", "_sort", "_include", "_revinclude", "_summary",
            "_elements", "_format", "_pretty", "_total", "_contained", "_containedType");

    private final RecordSearch search;
    private final RecordGuard guard;
    private final RecordAudit audit;
    private final JdbcClient jdbc;

    ConditionalCriteria(RecordSearch search, RecordGuard guard, RecordAudit audit, DataSource dataSource) {
        this.search = search;
        this.guard = guard;
        this.audit = audit;
        this.jdbc = JdbcClient.create(dataSource);
    }

    /**
     * The record of {@code type} the criteria name, in the caller's scope: empty for none, 412 for
     * several. Runs in the caller's transaction (the lock is part of it); the SEARCHED event is durable
     * on its own, so a refusal or a rollback never erases it.
     *
     * @param criteria a query string ({@code identifier=a|b&family=c}), optionally after {@code Type?}
     */
    java.util.Optional<UUID> match(String type, String criteria) {
        Map<String, String[]> parameters = parse(type, criteria);
        String path = "/fhir/" + type;
        boolean maySeeSsn = guard.maySeeSsn();
        if (!maySeeSsn && SsnRule.searchNamesSsn(parameters)) {
            throw guard.refuse(RecordAudit.user(), "ssn-search-needs-view-ssn", path, null);
        }
        AccessEnforcement.Scopes scopes = AccessEnforcement.scopesOf(guard, Interaction.SEARCH, type, path);
        if (scopes.empty()) {
            // nothing is visible to this caller, so nothing can match; the write is decided on its own
            return java.util.Optional.empty();
        }
        // only a caller the policy let this far waits for (and holds) the type's lock
        lock(type);
        IBundleProvider results = search.search(type, parameters, scopes, maySeeSsn);
        Integer size = results.size();
        // Durable, outside the write's transaction, before the answer depends on the match: a 412
        // (several), or a write rolled back later, still leaves the search on the trail.
        recordDurably(audit.event(AuditAction.SEARCHED, path, null, query(parameters)));
        if (size != null && size > 1) {
            throw new SafeFhirException(412, IssueType.MULTIPLEMATCHES,
                    "The conditional criteria match more than one resource; make them more selective");
        }
        List<IBaseResource> found = results.getResources(0, 2);
        if (found.size() > 1) {
            throw new SafeFhirException(412, IssueType.MULTIPLEMATCHES,
                    "The conditional criteria match more than one resource; make them more selective");
        }
        return found.stream().findFirst().map(resource -> UUID.fromString(resource.getIdElement().getIdPart()));
    }

    /**
     * Records that a match's id is about to be sent (a conditional create answering with the
     * record it found): a VIEWED event naming the record and its patient, durable before the answer.
     */
    void revealed(String type, UUID id) {
        String compartment = jdbc.sql("select compartment from phi.resource where resource_type = ? and resource_id = ?")
                .params(type, id)
                .query(String.class)
                .optional()
                .orElse(null);
        recordDurably(audit.event(AuditAction.VIEWED, "/fhir/" + type + "/" + id,
                compartment == null ? null : RecordGuard.patient(compartment), null));
    }

    private void recordDurably(health.carapace.audit.AuditEvent event) {
        try {
            audit.trail().record(List.of(event));
        } catch (health.carapace.audit.AuditUnavailableException e) {
            throw new SafeFhirException(503, IssueType.TRANSIENT,
                    "The audit trail is unavailable, so no conditional write can be resolved; try again later");
        }
    }

    /** The criteria as parameters, strictly percent-decoded; refused (400) without echoing anything. */
    static Map<String, String[]> parse(String type, String criteria) {
        String query = criteria == null ? "" : criteria.strip();
        int question = query.indexOf('?');
        if (question >= 0) {
            if (!query.substring(0, question).equals(type) && question > 0) {
                throw SafeFhirException.badRequest("Conditional criteria must search the type written");
            }
            query = query.substring(question + 1);
        }
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int equals = pair.indexOf('=');
            String name = decode(equals < 0 ? pair : pair.substring(0, equals));
            String value = equals < 0 ? "" : decode(pair.substring(equals + 1));
            // a control character (%00) matches nothing a FHIR string can hold: refused, not searched
            if (!StrictBody.isStorable(name) || !StrictBody.isStorable(value)) {
                throw SafeFhirException.badRequest("Conditional criteria hold a control character or an unpaired "
                        + "surrogate, which no search value can");
            }
            if (NOT_CRITERIA.contains(name.split(":", 2)[0])) {
                throw SafeFhirException.badRequest("Conditional criteria select records: result parameters such as "
                        + "_count, _sort or _include cannot be used in them");
            }
            if (!value.isBlank()) {
                values.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
            }
        }
        if (values.isEmpty()) {
            throw SafeFhirException.badRequest("Conditional criteria are empty; give at least one search parameter "
                    + "served from a blind index or metadata (GET /fhir/metadata lists them)");
        }
        Map<String, String[]> parameters = new LinkedHashMap<>();
        values.forEach((name, list) -> parameters.put(name, list.toArray(String[]::new)));
        return parameters;
    }

    private static String decode(String encoded) {
        try {
            byte[] bytes = new byte[encoded.length()];
            int length = 0;
            for (int i = 0; i < encoded.length(); i++) {
                char c = encoded.charAt(i);
                if (c == '%') {
                    if (i + 2 >= encoded.length()) {
                        throw new IllegalArgumentException();
                    }
                    bytes[length++] = (byte) Integer.parseInt(encoded.substring(i + 1, i + 3), 16);
                    i += 2;
                } else if (c == '+') {
                    bytes[length++] = ' ';
                } else if (c < 0x80) {
                    bytes[length++] = (byte) c;
                } else {
                    throw new IllegalArgumentException();
                }
            }
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, length)).toString();
        } catch (IllegalArgumentException | CharacterCodingException e) {
            throw SafeFhirException.badRequest("Conditional criteria are not valid percent-encoded UTF-8");
        }
    }

    private static String query(Map<String, String[]> parameters) {
        StringBuilder query = new StringBuilder();
        new java.util.TreeMap<>(parameters).forEach((name, values) -> {
            for (String value : values) {
                query.append(query.isEmpty() ? "" : "&")
                        .append(java.net.URLEncoder.encode(name, StandardCharsets.UTF_8)).append('=')
                        .append(java.net.URLEncoder.encode(value, StandardCharsets.UTF_8));
            }
        });
        return query.toString();
    }

    /** At most this many conditional entries in one Bundle: each is a search run under a lock. */
    static final int MAX_CONDITIONAL_ENTRIES = 100;

    /** How long a conditional write waits for another of its type before it is refused (409, retry). */
    private static final String LOCK_TIMEOUT = "5s";

    /**
     * Takes the locks of the types a transaction's conditional entries (creates with
     * {@code ifNoneExist}, conditional updates) write, in one order (by name), after deciding each,
     * before the transaction locks any record: two transactions conditional on the same types cannot
     * wait for each other. {@link #match} takes them again (the lock is re-entrant).
     */
    void lockInOrder(java.util.Collection<String> types) {
        if (types.size() > MAX_CONDITIONAL_ENTRIES) {
            throw tooManyConditionalEntries();
        }
        for (String type : new java.util.TreeSet<>(types)) {
            if (!AccessEnforcement.scopesOf(guard, Interaction.SEARCH, type, "/fhir/" + type).empty()) {
                lock(type);
            }
        }
    }

    /** How long a conditional write waits on its node for another of its type; it holds no connection meanwhile. */
    private static final long GATE_TIMEOUT_SECONDS = 30;

    /** One gate per type on this node (fair: waiters go in arrival order). */
    private final java.util.concurrent.ConcurrentMap<String, java.util.concurrent.locks.ReentrantLock> gates =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Runs {@code write} (which opens the write's database transaction) once this node's other
     * conditional writes of {@code types} are done: one at a time per type and node, waiting here,
     * without holding a database connection. Without this gate, writers waiting for the type's
     * advisory lock each hold a pool connection; with as many of them as the pool has connections,
     * the writer holding the lock cannot record its audit event (the group commit needs a connection
     * too), and every one of them fails (409 or 503). The advisory lock still serialises writers on
     * different nodes. Each type is decided first (a caller refused never waits), and the gates are
     * taken in name order, the first step of the lock order (ADR 0035).
     */
    <T> T oneAtATimePerType(java.util.Collection<String> types, java.util.function.Supplier<T> write) {
        if (types.size() > MAX_CONDITIONAL_ENTRIES) {
            throw tooManyConditionalEntries();
        }
        java.util.Deque<java.util.concurrent.locks.ReentrantLock> held = new java.util.ArrayDeque<>();
        try {
            for (String type : new java.util.TreeSet<>(types)) {
                if (AccessEnforcement.scopesOf(guard, Interaction.SEARCH, type, "/fhir/" + type).empty()) {
                    continue; // nothing of the type is visible to this caller: its match takes no lock
                }
                var gate = gates.computeIfAbsent(type, t -> new java.util.concurrent.locks.ReentrantLock(true));
                if (!gate.tryLock(GATE_TIMEOUT_SECONDS, java.util.concurrent.TimeUnit.SECONDS)) {
                    throw new SafeFhirException(409, IssueType.TRANSIENT,
                            "Another conditional write of this type is in progress; try again");
                }
                held.push(gate);
            }
            return write.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SafeFhirException(503, IssueType.TRANSIENT, "The request was interrupted; try again");
        } finally {
            held.forEach(java.util.concurrent.locks.ReentrantLock::unlock);
        }
    }

    static SafeFhirException tooManyConditionalEntries() {
        return SafeFhirException.badRequest("A Bundle may hold at most " + MAX_CONDITIONAL_ENTRIES
                + " conditional entries; split it");
    }

    /** The type's lock, waited for at most {@link #LOCK_TIMEOUT}; the transaction's own lock_timeout is restored. */
    private void lock(String type) {
        String previous = jdbc.sql("select current_setting('lock_timeout')").query(String.class).single();
        jdbc.sql("select set_config('lock_timeout', ?, true)").param(LOCK_TIMEOUT).query(String.class).single();
        try {
            jdbc.sql("select 1 from pg_advisory_xact_lock(?)").param(lockKey(type)).query((rs, n) -> 1).list();
        } catch (org.springframework.dao.DataAccessException e) {
            // the database transaction is aborted (and its settings with it): the write is refused
            throw new SafeFhirException(409, IssueType.TRANSIENT,
                    "Another conditional write of this type is in progress; try again");
        }
        jdbc.sql("select set_config('lock_timeout', ?, true)").param(previous).query(String.class).single();
    }

    /** One advisory lock per type (a fixed namespace in the high bits, the type name's hash below). */
    private static long lockKey(String type) {
        return (0x43_4F_4E_44L << 32) | (type.hashCode() & 0xFFFF_FFFFL);
    }
}
