package health.carapace.records.internal;

import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.annotation.Since;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import health.carapace.access.PatientScope;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * {@code GET /fhir/Patient/{id}/$everything} (with {@code _since}, {@code _type}, {@code _count} and
 * paging) and the server's history ({@code GET /fhir/_history}, {@link RecordHistory}).
 *
 * <p>{@code $everything} is decided like a read of the patient ({@link AccessEnforcement}: 404,
 * 403 or 410 as a read), then every record of the patient's compartment is narrowed in SQL to the
 * caller's scope for reading its type ({@link RecordSearch#scopeClause}); types the caller may not
 * read are left out. One statement finds the ids; each page is decrypted when rendered and
 * narrowed to the scope again (a care relationship ended between pages hides the records). It
 * returns the compartment only: records outside it (the practitioners and organisations they
 * reference) are not followed.
 */
final class PatientEverything {

    static final String OPERATION = "$everything";

    /** The patient first, then every type of the Patient compartment, in the served order. */
    static final List<String> TYPES = Stream.concat(Stream.of("Patient"),
            ResourceTypes.names().stream().filter(type -> ResourceTypes.patientLink(type).isPresent())).toList();

    private final RecordStore store;
    private final RecordHistory history;
    private final JdbcClient jdbc;
    private final int maxRecords;

    PatientEverything(RecordStore store, RecordHistory history, DataSource dataSource, int maxRecords) {
        this.store = store;
        this.history = history;
        this.jdbc = JdbcClient.create(dataSource);
        this.maxRecords = maxRecords;
    }

    @History
    public IBundleProvider serverHistory(RequestDetails request, @Since InstantType since) {
        return history.of(scopes(request), since == null || since.getValue() == null ? null : since.getValue().toInstant());
    }

    @Operation(name = OPERATION, idempotent = true, type = Patient.class,
            bundleType = ca.uhn.fhir.model.valueset.BundleTypeEnum.SEARCHSET)
    public IBundleProvider everything(@IdParam IdType id, RequestDetails request,
            @OperationParam(name = "_since", max = 1) InstantType since,
            @OperationParam(name = "_type", max = OperationParam.MAX_UNLIMITED) List<StringType> types,
            @OperationParam(name = "_count", max = 1) IntegerType count) {
        // _count is read by HAPI's paging like a search's; declared so that it binds.
        UUID patient = Ids.require(id.getIdPart());
        Map<String, AccessEnforcement.Scopes> scopes = scopes(request);
        Set<String> wanted = wantedTypes(types);
        StringBuilder where = new StringBuilder();
        List<Object> args = new ArrayList<>();
        args.add("Patient/" + patient);
        for (var entry : scopes.entrySet()) {
            if (wanted != null && !wanted.contains(entry.getKey())) {
                continue;
            }
            PatientScope.Clause clause = RecordSearch.scopeClause(entry.getValue());
            where.append(where.isEmpty() ? "" : " or ")
                    .append("(r.resource_type = ? and (").append(clause == null ? "true" : clause.sql()).append("))");
            args.add(entry.getKey());
            if (clause != null) {
                args.addAll(clause.args());
            }
        }
        if (where.isEmpty()) {
            where.append("false");
        }
        String sinceClause = "";
        if (since != null && since.getValue() != null) {
            sinceClause = " and r.last_updated >= ?";
            args.add(Timestamp.from(since.getValue().toInstant()));
        }
        List<String[]> found = jdbc.sql("select r.resource_type, r.resource_id from phi.resource r where r.compartment = ?"
                        + " and (" + where + ") and not r.deleted and not " + RecordStore.SHREDDED_CURRENT + sinceClause
                        + " order by array_position(?::text[], r.resource_type::text), r.last_updated, r.resource_id"
                        + " limit " + (maxRecords + 1))
                .params(withOrder(args))
                .query((rs, n) -> new String[] {rs.getString(1), rs.getString(2)})
                .list();
        if (found.size() > maxRecords) {
            throw SafeFhirException.badRequest("This patient has more than " + maxRecords
                    + " records in scope; narrow $everything with _since or _type");
        }
        return new Everything(scopes, found);
    }

    private static List<Object> withOrder(List<Object> args) {
        List<Object> all = new ArrayList<>(args);
        all.add(TYPES.toArray(String[]::new));
        return all;
    }

    /** {@code _type} as a set of served compartment types (null: all); an unknown type is refused without echoing it. */
    private static Set<String> wantedTypes(List<StringType> types) {
        if (types == null || types.isEmpty()) {
            return null;
        }
        Set<String> wanted = new java.util.HashSet<>();
        for (StringType value : types) {
            for (String type : value.getValueAsString() == null ? new String[0] : value.getValueAsString().split(",")) {
                if (!TYPES.contains(type.strip())) {
                    throw SafeFhirException.badRequest("Parameter _type of $everything names a type that is not in the "
                            + "Patient compartment served here (GET /fhir/metadata lists the served types)");
                }
                wanted.add(type.strip());
            }
        }
        return wanted;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, AccessEnforcement.Scopes> scopes(RequestDetails request) {
        Object scopes = request.getUserData().get(AccessEnforcement.SCOPES_BY_TYPE_KEY);
        if (!(scopes instanceof Map<?, ?> map)) {
            // no decision was made for this request: fail closed
            throw RecordGuard.forbidden("no-decision");
        }
        return (Map<String, AccessEnforcement.Scopes>) map;
    }

    /** The ids found, each page read per type and narrowed to that type's scope again. */
    private final class Everything implements IBundleProvider, SearchResults.MultiScoped {
        private final InstantType published = InstantType.now();
        private final Map<String, AccessEnforcement.Scopes> scopes;
        private final List<String[]> ids;

        Everything(Map<String, AccessEnforcement.Scopes> scopes, List<String[]> ids) {
            this.scopes = scopes;
            this.ids = List.copyOf(ids);
        }

        @Override
        public List<IBaseResource> getResources(int from, int to) {
            int end = Math.min(to, ids.size());
            if (from >= end) {
                return List.of();
            }
            Map<String, List<UUID>> byType = new LinkedHashMap<>();
            for (String[] id : ids.subList(from, end)) {
                byType.computeIfAbsent(id[0], t -> new ArrayList<>()).add(UUID.fromString(id[1]));
            }
            List<IBaseResource> page = new ArrayList<>();
            byType.forEach((type, typeIds) -> page.addAll(store.readCurrent(type, typeIds,
                    RecordSearch.scopeClause(scopes.get(type)))));
            return page;
        }

        @Override
        public Integer size() {
            return ids.size();
        }

        @Override
        public IPrimitiveType<java.util.Date> getPublished() {
            return published;
        }

        @Override
        public String getUuid() {
            return null;
        }

        @Override
        public Integer preferredPageSize() {
            return null;
        }

        @Override
        public Map<String, AccessEnforcement.Scopes> scopesByType() {
            return scopes;
        }
    }
}
