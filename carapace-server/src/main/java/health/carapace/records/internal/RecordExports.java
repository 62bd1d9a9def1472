package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import health.carapace.access.Caller;
import health.carapace.access.Interaction;
import health.carapace.access.Permissions;
import health.carapace.access.RecordAccess;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.crypto.RecordCipher;
import health.carapace.crypto.RecordIntegrityException;
import health.carapace.records.Compartment;
import health.carapace.records.RecordExport;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * {@link RecordExport}: keyset pages of one patient's current rows (metadata and ciphertext), each
 * decided by {@link RecordAccess} (search on its type and category, in the patient's compartment)
 * before it is decrypted, with the same associated data and stored-JSON framing as a read.
 */
@Component
class RecordExports implements RecordExport {

    private static final int BATCH = 200;

    private record Stored(String type, UUID id, long version, String compartment, byte[] ciphertext, String category) {}

    private final JdbcClient jdbc;
    private final RecordCipher cipher;
    private final RecordAccess access;
    private final AuditTrail audit;
    private final FhirContext fhir;
    private final RecordSearch search;

    RecordExports(DataSource dataSource, RecordCipher cipher, RecordAccess access, AuditTrail audit, FhirContext fhir,
            RecordSearch search) {
        this.search = search;
        this.jdbc = JdbcClient.create(dataSource);
        this.cipher = cipher;
        this.access = access;
        this.audit = audit;
        this.fhir = fhir;
    }

    @Override
    public List<Compartment> patients(Compartment after, int limit) {
        return jdbc.sql("""
                select distinct r.compartment from phi.resource r
                where r.compartment like 'Patient/%' and r.compartment > ? and not r.deleted
                  and not exists (select 1 from phi.shredded_compartment s where s.compartment = r.compartment)
                order by r.compartment limit ?""")
                .params(after == null ? "" : after.toString(), limit)
                .query(String.class).list().stream().map(Compartment::parse).toList();
    }

    @Override
    public GroupLookup group(Caller caller, InetAddress address, Instant at, UUID groupId) {
        var decision = access.decide(caller, Interaction.READ, "Group", null, RecordCipher.SHARED_COMPARTMENT, address, at);
        if (!decision.allowed()) {
            return new GroupLookup.Refused(decision.reason());
        }
        List<Stored> rows = jdbc.sql("""
                select r.resource_type, r.resource_id, r.current_version, v.compartment, v.ciphertext, null
                from phi.resource r join phi.resource_version v
                  on v.resource_type = r.resource_type and v.resource_id = r.resource_id and v.version = r.current_version
                where r.resource_type = 'Group' and r.resource_id = ? and not r.deleted""")
                .param(groupId)
                .query((rs, n) -> new Stored(rs.getString(1), rs.getObject(2, UUID.class), rs.getLong(3),
                        rs.getString(4), rs.getBytes(5), null))
                .list();
        if (rows.isEmpty()) {
            return new GroupLookup.Missing();
        }
        Stored row = rows.get(0);
        StoredJson stored = StoredJson.unframe(cipher.decrypt(row.compartment(), row.ciphertext(),
                RecordStore.associatedData(row.type(), row.id(), row.version(), row.compartment())));
        var group = (org.hl7.fhir.r4.model.Group) fhir.newJsonParser()
                .parseResource(new String(stored.json(), StandardCharsets.UTF_8));
        return new GroupLookup.Found(group.getActual(), PatientGroups.activeMembers(group));
    }

    @Override
    public java.util.Optional<String> refusal(TypeFilter filter) {
        if (!ResourceTypes.names().contains(filter.type())) {
            return java.util.Optional.of("_typeFilter names a type this server does not export");
        }
        try {
            search.criteria(filter.type(), arrays(filter), false);
            return java.util.Optional.empty();
        } catch (SafeFhirException refused) {
            // the search's own refusals name parameters, never values
            String message = refused.getMessage();
            return java.util.Optional.of(message.startsWith("_typeFilter") ? message : "_typeFilter for " + filter.type()
                    + ": " + message + " (it can use: " + String.join(", ", RecordSearch.criteriaParameters(filter.type()))
                    + ")");
        }
    }

    private static java.util.Map<String, String[]> arrays(TypeFilter filter) {
        java.util.Map<String, String[]> parameters = new java.util.LinkedHashMap<>();
        filter.parameters().forEach((name, values) -> parameters.put(name, values.toArray(String[]::new)));
        return parameters;
    }

    /** One filter planned for one patient: the ids its SQL selects there, and its plaintext test. */
    private record Selection(java.util.Set<UUID> candidates, java.util.function.Predicate<Resource> matches) {}

    private java.util.Map<String, List<Selection>> selections(List<TypeFilter> filters, String compartment,
            boolean maySeeSsn) {
        java.util.Map<String, List<Selection>> byType = new java.util.HashMap<>();
        for (TypeFilter filter : filters) {
            RecordSearch.Criteria criteria = search.criteria(filter.type(), arrays(filter), maySeeSsn);
            List<Object> args = new java.util.ArrayList<>(criteria.args());
            args.add(compartment);
            java.util.Set<UUID> ids = java.util.Set.copyOf(jdbc.sql("select r.resource_id from phi.resource r where "
                    + criteria.where() + " and r.compartment = ?").params(args).query(UUID.class).list());
            byType.computeIfAbsent(filter.type(), t -> new java.util.ArrayList<>())
                    .add(new Selection(ids, criteria.matches()));
        }
        return byType;
    }

    @Override
    public int export(Caller caller, InetAddress address, Instant at, Compartment patient, Set<String> types,
            Instant since, List<TypeFilter> filters, String jobReference, Consumer<Exported> sink) {
        // one patient: its event is durable before its first record is handed out
        return exportOne(caller, address, at, patient, types, since, filters, jobReference,
                event -> audit.record(List.of(event)), sink);
    }

    @Override
    public int exportPart(Caller caller, InetAddress address, Instant at, List<Compartment> patients,
            Set<String> types, Instant since, List<TypeFilter> filters, String jobReference,
            java.util.function.Predicate<Compartment> proceed, Consumer<Exported> sink) {
        // A part's events go to the trail in one durable append when the part is done (one group
        // commit instead of one per patient, which was most of an export's time); the part's files
        // become downloadable only after this returns, so nothing leaves unaudited (fail closed).
        List<AuditEvent> trail = new java.util.ArrayList<>();
        int handed = 0;
        for (Compartment patient : patients) {
            if (proceed.test(patient)) {
                handed += exportOne(caller, address, at, patient, types, since, filters, jobReference, trail::add, sink);
            }
        }
        if (!trail.isEmpty()) {
            audit.record(trail);
        }
        return handed;
    }

    private int exportOne(Caller caller, InetAddress address, Instant at, Compartment patient, Set<String> types,
            Instant since, List<TypeFilter> filters, String jobReference, Consumer<AuditEvent> trail,
            Consumer<Exported> sink) {
        String compartment = patient.toString();
        if (jdbc.sql("select exists (select 1 from phi.shredded_compartment where compartment = ?)").param(compartment)
                .query(Boolean.class).single()) {
            return 0;
        }
        boolean audited = false;
        // A backend service's export names it as the app, like every request made with its token (F3).
        AuditContext context = caller.appScope().narrows() ? new AuditContext(null, null, null, caller.principal())
                : AuditContext.none();
        boolean maySeeSsn = access.grants(caller, Permissions.VIEW_SSN, address, at);
        java.util.Map<String, List<Selection>> selections = selections(filters, compartment, maySeeSsn);
        String[] typeFilter = types.toArray(String[]::new);
        String lastType = "";
        UUID lastId = new UUID(0, 0);
        int handed = 0;
        while (true) {
            List<Stored> batch = jdbc.sql("""
                    select r.resource_type, r.resource_id, r.current_version, v.compartment, v.ciphertext, c.category
                    from phi.resource r join phi.resource_version v
                      on v.resource_type = r.resource_type and v.resource_id = r.resource_id and v.version = r.current_version
                    left join phi.resource_category c on c.resource_type = r.resource_type
                      and c.resource_id = r.resource_id and c.version = r.current_version
                    where r.compartment = ? and not r.deleted and v.compartment = r.compartment
                      and (cardinality(?::text[]) = 0 or r.resource_type = any(?::text[]))
                      and (?::timestamptz is null or r.last_updated > ?::timestamptz)
                      and (r.resource_type, r.resource_id) > (?, ?)
                    order by r.resource_type, r.resource_id limit ?""")
                    .params(compartment, typeFilter, typeFilter, since == null ? null : Timestamp.from(since),
                            since == null ? null : Timestamp.from(since), lastType, lastId, BATCH)
                    .query((rs, n) -> new Stored(rs.getString(1), rs.getObject(2, UUID.class), rs.getLong(3),
                            rs.getString(4), rs.getBytes(5), rs.getString(6)))
                    .list();
            for (Stored row : batch) {
                lastType = row.type();
                lastId = row.id();
                List<Selection> wanted = selections.get(row.type());
                if (wanted != null && wanted.stream().noneMatch(selection -> selection.candidates().contains(row.id()))) {
                    continue; // no filter of its type selects it (metadata and tokens alone)
                }
                if (!access.decide(caller, Interaction.SEARCH, row.type(), row.category(), compartment, address, at)
                        .allowed()) {
                    continue;
                }
                // The export of this patient is on the trail before any of their records leaves (fail
                // closed), and only once one does: a patient none of whose records the client may
                // read is not recorded as exported to it.
                StoredJson stored;
                try {
                    stored = StoredJson.unframe(cipher.decrypt(row.compartment(), row.ciphertext(),
                            RecordStore.associatedData(row.type(), row.id(), row.version(), row.compartment())));
                } catch (RecordIntegrityException tampered) {
                    // One altered record does not sink a population export: it is left out, on the trail
                    // (which record, for the operator), and reported to the client by type only.
                    trail.accept(new AuditEvent(UUID.randomUUID(), Instant.now(), caller.principal(),
                            AuditAction.VIEWED, "/fhir/" + row.type() + "/" + row.id(), context, false,
                            compartment, null, jobReference, false, null, INTEGRITY_FAILED));
                    sink.accept(new Exported(Exported.ERROR_TYPE, patient, integrityOutcome(row.type())));
                    continue;
                }
                if (wanted != null) {
                    // truncated tokens match several values, and some criteria only filter plaintext
                    Resource resource = (Resource) fhir.newJsonParser()
                            .parseResource(new String(stored.json(), StandardCharsets.UTF_8));
                    if (wanted.stream().noneMatch(selection -> selection.candidates().contains(row.id())
                            && selection.matches().test(resource))) {
                        continue;
                    }
                }
                if (!audited) {
                    trail.accept(AuditEvent.now(caller.principal(), AuditAction.VIEWED, "/fhir/$export",
                            context, true, compartment, null, jobReference));
                    audited = true;
                }
                sink.accept(new Exported(row.type(), patient, line(stored, maySeeSsn)));
                handed++;
            }
            if (batch.size() < BATCH) {
                return handed;
            }
        }
    }

    /** The audit reason of a record left out of an export because its ciphertext failed authentication. */
    static final String INTEGRITY_FAILED = "integrity-check-failed";

    /** The error line of a record left out: its type only (the audit trail says which record). */
    private byte[] integrityOutcome(String type) {
        org.hl7.fhir.r4.model.OperationOutcome outcome = new org.hl7.fhir.r4.model.OperationOutcome();
        outcome.addIssue().setSeverity(org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity.ERROR)
                .setCode(org.hl7.fhir.r4.model.OperationOutcome.IssueType.PROCESSING)
                .setDiagnostics("A " + type + " record failed its integrity check and was left out of this export");
        return fhir.newJsonParser().setPrettyPrint(false).encodeResourceToString(outcome).getBytes(StandardCharsets.UTF_8);
    }

    /** The stored JSON as one NDJSON line; parsed, masked and encoded again only when it must change. */
    private byte[] line(StoredJson stored, boolean maySeeSsn) {
        boolean mask = !maySeeSsn && stored.ssn() != StoredJson.Ssn.ABSENT;
        boolean multiline = false;
        for (byte b : stored.json()) {
            if (b == '\n' || b == '\r') {
                multiline = true;
                break;
            }
        }
        if (!mask && !multiline) {
            return stored.json();
        }
        Resource resource = (Resource) fhir.newJsonParser().parseResource(new String(stored.json(), StandardCharsets.UTF_8));
        if (mask) {
            SsnMasking.maskAll(fhir, resource);
        }
        return fhir.newJsonParser().setPrettyPrint(false).encodeResourceToString(resource).getBytes(StandardCharsets.UTF_8);
    }
}
