package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.model.api.ResourceMetadataKeyEnum;
import ca.uhn.fhir.model.valueset.BundleEntryTransactionMethodEnum;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import health.carapace.access.PatientScope;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Resource;

/**
 * History of a type ({@code GET /fhir/Patient/_history}) or of the whole server
 * ({@code GET /fhir/_history}): every version the caller may see, newest first, narrowed in SQL
 * to the caller's scope for each type on each version's own compartment (a record that moved
 * between patients shows each version only to those who may see that version's patient), as the
 * history of one record is decided on every version. Each entry carries its {@code request}
 * (POST for a first version, PUT for a later one, DELETE for a deletion), as the history Bundle
 * must (invariant bdl-3).
 */
final class RecordHistory {

    private static final FhirContext FHIR = FhirContext.forR4Cached();

    private final RecordStore store;

    RecordHistory(RecordStore store) {
        this.store = store;
    }

    /** The history of the types in {@code scopes} (each with the caller's non-empty scope), since {@code since} if given. */
    IBundleProvider of(Map<String, AccessEnforcement.Scopes> scopes, Instant since) {
        StringBuilder where = new StringBuilder();
        List<Object> args = new ArrayList<>();
        for (var entry : scopes.entrySet()) {
            if (!where.isEmpty()) {
                where.append(" or ");
            }
            PatientScope.Clause clause = RecordSearch.scopeClause(entry.getValue(), "v.compartment",
                    RecordCategories.versionIs(health.carapace.access.Permissions.IMAGING_CATEGORY));
            where.append("(v.resource_type = ? and (").append(clause == null ? "true" : clause.sql()).append("))");
            args.add(entry.getKey());
            if (clause != null) {
                args.addAll(clause.args());
            }
        }
        if (where.isEmpty()) {
            where.append("false");
        }
        String all = since == null ? where.toString() : "(" + where + ") and v.last_updated >= ?";
        if (since != null) {
            args.add(Timestamp.from(since));
        }
        return new Versions(Map.copyOf(scopes), all, List.copyOf(args));
    }

    /** A version as a history entry: the resource, or for a deletion a marker HAPI renders as a DELETE entry. */
    static Resource entry(RecordStore store, RecordStore.Row row) {
        Resource resource;
        if (row.deleted()) {
            resource = (Resource) FHIR.getResourceDefinition(row.type()).newInstance();
            resource.setId(new IdType(row.type(), row.id().toString(), Long.toString(row.version())));
            resource.getMeta().setVersionId(Long.toString(row.version()));
            resource.getMeta().setLastUpdated(java.util.Date.from(row.lastUpdated()));
            ResourceMetadataKeyEnum.DELETED_AT.put(resource, new InstantType(java.util.Date.from(row.lastUpdated())));
            ResourceMetadataKeyEnum.ENTRY_TRANSACTION_METHOD.put(resource, BundleEntryTransactionMethodEnum.DELETE);
            return resource;
        }
        resource = store.open(row);
        ResourceMetadataKeyEnum.ENTRY_TRANSACTION_METHOD.put(resource, row.version() == 1
                ? BundleEntryTransactionMethodEnum.POST : BundleEntryTransactionMethodEnum.PUT);
        return resource;
    }

    /** The versions, counted and paged in SQL; each page decrypted when rendered. */
    private final class Versions implements IBundleProvider, SearchResults.MultiScoped {
        private final InstantType published = InstantType.now();
        private final Map<String, AccessEnforcement.Scopes> scopes;
        private final String where;
        private final List<Object> args;
        private Integer size;

        Versions(Map<String, AccessEnforcement.Scopes> scopes, String where, List<Object> args) {
            this.scopes = scopes;
            this.where = where;
            this.args = args;
        }

        @Override
        public List<IBaseResource> getResources(int from, int to) {
            List<IBaseResource> page = new ArrayList<>();
            for (RecordStore.Row row : store.versions(where, args, from, to)) {
                page.add(entry(store, row));
            }
            return page;
        }

        @Override
        public synchronized Integer size() {
            if (size == null) {
                size = store.countVersions(where, args);
            }
            return size;
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
