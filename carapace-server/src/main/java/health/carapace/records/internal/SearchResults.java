package health.carapace.records.internal;

import ca.uhn.fhir.rest.api.server.IBundleProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Search results hold ids only; each page is read and decrypted when it is rendered, so no
 * decrypted resource outlives the response that carries it.
 */
final class SearchResults {

    private SearchResults() {
    }

    /** A search result that knows the type searched and the access scope it was narrowed to. */
    interface Scoped {
        String type();

        AccessEnforcement.Scopes scopes();
    }

    /**
     * Results that span several types (server history, {@code $everything}), each type under the
     * scope it was narrowed to: a later page is decided again for every one of them.
     */
    interface MultiScoped {
        java.util.Map<String, AccessEnforcement.Scopes> scopesByType();
    }

    /** What both kinds share: no cached UUID (HAPI's paging provider assigns one), default page size. */
    private abstract static class Ids implements IBundleProvider, Scoped {
        private final InstantType published = InstantType.now();
        private final String searchedType;
        private final AccessEnforcement.Scopes scopes;

        Ids(String searchedType, AccessEnforcement.Scopes scopes) {
            this.searchedType = searchedType;
            this.scopes = scopes;
        }

        @Override
        public String type() {
            return searchedType;
        }

        @Override
        public AccessEnforcement.Scopes scopes() {
            return scopes;
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
    }

    /**
     * Results already decided (after filtering decrypted candidates). The ids are fixed at search
     * time, so each page is narrowed to the scope again ({@code scopeWhere}, which reads care
     * relationships live): a relationship that ended between pages hides that patient's records.
     *
     * <p>The resources the filter decrypted are handed to the first page rendered in the search's
     * own request instead of being loaded and decrypted a second time: they were narrowed to the
     * scope in SQL milliseconds before. They are given out once and dropped when the results are
     * kept for paging ({@link #forgetDecrypted}), so no decrypted resource outlives the response.
     */
    static final class Listed extends Ids {
        private final String type;
        private final RecordStore store;
        private final List<UUID> ids;
        private final JdbcClient jdbc;
        private final String scopeWhere;
        private final List<Object> scopeArgs;
        private List<Resource> decrypted;

        Listed(String type, RecordStore store, List<Resource> matches, AccessEnforcement.Scopes scopes, JdbcClient jdbc,
                String scopeWhere, List<Object> scopeArgs) {
            super(type, scopes);
            this.type = type;
            this.store = store;
            this.ids = matches.stream().map(resource -> UUID.fromString(resource.getIdElement().getIdPart())).toList();
            this.decrypted = new ArrayList<>(matches);
            this.jdbc = jdbc;
            this.scopeWhere = scopeWhere;
            this.scopeArgs = List.copyOf(scopeArgs);
        }

        /** Called when the results are kept for later pages: those are always loaded afresh. */
        synchronized void forgetDecrypted() {
            decrypted = null;
        }

        private synchronized List<Resource> takeDecrypted() {
            List<Resource> taken = decrypted;
            decrypted = null;
            return taken;
        }

        @Override
        public List<IBaseResource> getResources(int from, int to) {
            List<Resource> fromSearch = takeDecrypted();
            int end = Math.min(to, ids.size());
            if (from >= end) {
                return List.of();
            }
            if (fromSearch != null) {
                return new ArrayList<>(fromSearch.subList(from, end));
            }
            List<UUID> page = ids.subList(from, end);
            List<Object> args = new ArrayList<>(scopeArgs);
            args.add(page.toArray(UUID[]::new));
            java.util.Set<UUID> stillInScope = new java.util.HashSet<>(jdbc.sql("select r.resource_id from phi.resource r"
                            + " where " + scopeWhere + " and r.resource_id = any(?)")
                    .params(args)
                    .query(UUID.class)
                    .list());
            return new ArrayList<>(store.readCurrent(type, page.stream().filter(stillInScope::contains).toList()));
        }

        @Override
        public Integer size() {
            return ids.size();
        }
    }

    /** Results decided by SQL alone (metadata criteria): counted, and paged with LIMIT/OFFSET. */
    static final class Lazy extends Ids {
        private final String type;
        private final RecordStore store;
        private final JdbcClient jdbc;
        private final String where;
        private final List<Object> args;
        private final String order;
        private Integer size;

        Lazy(String type, RecordStore store, JdbcClient jdbc, String where, List<Object> args,
                AccessEnforcement.Scopes scopes, String order) {
            super(type, scopes);
            this.type = type;
            this.store = store;
            this.jdbc = jdbc;
            this.where = where;
            this.args = List.copyOf(args);
            this.order = order;
        }

        @Override
        public List<IBaseResource> getResources(int from, int to) {
            if (to <= from) {
                return List.of();
            }
            List<UUID> ids = jdbc.sql("select r.resource_id from phi.resource r where " + where
                            + " order by " + order + " limit " + (to - from) + " offset " + from)
                    .params(args)
                    .query(UUID.class)
                    .list();
            return new ArrayList<>(store.readCurrent(type, ids));
        }

        @Override
        public synchronized Integer size() {
            if (size == null) {
                size = jdbc.sql("select count(*) from phi.resource r where " + where)
                        .params(args)
                        .query(Integer.class)
                        .single();
            }
            return size;
        }
    }
}
