package health.carapace.records.internal;

import ca.uhn.fhir.model.api.ResourceMetadataKeyEnum;
import ca.uhn.fhir.model.valueset.BundleEntrySearchModeEnum;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import health.carapace.access.Interaction;
import health.carapace.access.PatientScope;
import health.carapace.records.internal.IncludeCatalog.Ref;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import javax.sql.DataSource;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * {@code _include} (with {@code :iterate} for one more level) and {@code _revinclude}. The records
 * a page brings along are loaded when the page is rendered, one statement per included type, and
 * each statement is narrowed to the caller's scope for reading that type, worked out by the same
 * decision as a search of it ({@link AccessEnforcement#scopesOf}, {@link RecordSearch#scopeClause}):
 * a record the caller could not read directly is left out, and a type the caller may not read at
 * all is left out and audited as a denial, never answered with an error that would confirm the
 * reference. What is sent is audited and masked like every search result ({@link ReadAudit},
 * {@link SsnMasking}), since the included records are entries of the same Bundle.
 */
final class Inclusions {

    /** What a search asked to bring along. */
    record Requested(List<Ref> includes, List<Ref> iterate, List<Ref> revincludes) {
        boolean none() {
            return includes.isEmpty() && iterate.isEmpty() && revincludes.isEmpty();
        }
    }

    private final RecordStore store;
    private final RecordGuard guard;
    private final JdbcClient jdbc;
    private final int maxIncluded;

    Inclusions(RecordStore store, RecordGuard guard, DataSource dataSource, int maxIncluded) {
        this.store = store;
        this.guard = guard;
        this.jdbc = JdbcClient.create(dataSource);
        this.maxIncluded = maxIncluded;
    }

    /**
     * Reads {@code _include}, {@code _include:iterate} and {@code _revinclude} of a search of
     * {@code type}; refuses (400) a value that is not in {@link IncludeCatalog} for that type,
     * naming the parameter only.
     */
    static Requested parse(String type, Map<String, String[]> parameters) {
        List<Ref> includes = new ArrayList<>();
        List<Ref> iterate = new ArrayList<>();
        List<Ref> revincludes = new ArrayList<>();
        for (var entry : parameters.entrySet()) {
            String[] nameAndModifier = entry.getKey().split(":", 2);
            String name = nameAndModifier[0];
            if (!name.equals("_include") && !name.equals("_revinclude")) {
                continue;
            }
            String modifier = nameAndModifier.length > 1 ? nameAndModifier[1] : null;
            boolean iterating = "iterate".equals(modifier) || "recurse".equals(modifier);
            if (modifier != null && (!iterating || name.equals("_revinclude"))) {
                throw SafeFhirException.badRequest("This modifier is not supported on " + name
                        + "; _include:iterate follows one more level");
            }
            for (String value : entry.getValue()) {
                if (value == null || value.isBlank()) {
                    continue;
                }
                Ref ref = ref(name, value);
                if (name.equals("_revinclude")) {
                    if (!ref.reversible() || !type.equals("Patient")) {
                        throw SafeFhirException.badRequest("This _revinclude is not supported: reverse includes are "
                                + "served for the patient or subject of a record on a Patient search (GET /fhir/metadata "
                                + "lists them)");
                    }
                    revincludes.add(ref);
                } else if (iterating) {
                    iterate.add(ref);
                } else {
                    if (!ref.source().equals(type)) {
                        throw SafeFhirException.badRequest("An _include must start with the searched type (" + type
                                + "); use _include:iterate to follow references of included records");
                    }
                    includes.add(ref);
                }
            }
        }
        return new Requested(List.copyOf(includes), List.copyOf(iterate), List.copyOf(revincludes));
    }

    private static Ref ref(String parameter, String value) {
        String[] parts = value.split(":");
        if (parts.length < 2 || parts.length > 3) {
            throw SafeFhirException.badRequest(parameter + " takes SourceType:parameter or SourceType:parameter:TargetType"
                    + " (a wildcard is not supported)");
        }
        Ref ref = IncludeCatalog.find(parts[0], parts[1]).orElseThrow(() -> SafeFhirException.badRequest(
                "An unsupported " + parameter + " value was used; GET /fhir/metadata lists the supported ones"));
        if (parts.length == 3) {
            if (!ref.targets().contains(parts[2])) {
                throw SafeFhirException.badRequest("An unsupported " + parameter + " target type was used; "
                        + "GET /fhir/metadata lists the supported ones");
            }
            return new Ref(ref.source(), ref.name(), ref.path(), Set.of(parts[2]));
        }
        return ref;
    }

    /** The search's results with what it asked to bring along, on every page. */
    IBundleProvider around(IBundleProvider matches, Requested requested) {
        return requested.none() ? matches : new Including(matches, requested);
    }

    /**
     * The page's matches (marked {@code match}) followed by the records they bring along (marked
     * {@code include}), each once, none of the matches repeated.
     */
    List<IBaseResource> with(List<IBaseResource> matches, Requested requested) {
        Set<String> seen = new LinkedHashSet<>();
        List<IBaseResource> page = new ArrayList<>();
        for (IBaseResource match : matches) {
            ResourceMetadataKeyEnum.ENTRY_SEARCH_MODE.put(match, BundleEntrySearchModeEnum.MATCH);
            seen.add(key(match));
            page.add(match);
        }
        List<Resource> sources = matches.stream().map(Resource.class::cast).toList();
        List<Resource> included = new ArrayList<>(follow(sources, requested.includes(), seen));
        included.addAll(reverse(sources, requested.revincludes(), seen));
        if (!requested.iterate().isEmpty()) {
            // one level on from everything brought so far, reverse includes too
            // (Patient?_revinclude=Observation:patient&_include:iterate=Observation:performer)
            List<Resource> all = new ArrayList<>(sources);
            all.addAll(included);
            included.addAll(follow(all, requested.iterate(), seen));
        }
        for (Resource resource : included) {
            ResourceMetadataKeyEnum.ENTRY_SEARCH_MODE.put(resource, BundleEntrySearchModeEnum.INCLUDE);
            page.add(resource);
        }
        return page;
    }

    /** The records the references name, one statement per target type, each narrowed to the caller's scope. */
    private List<Resource> follow(List<Resource> sources, List<Ref> refs, Set<String> seen) {
        Map<String, Set<UUID>> wanted = new TreeMap<>();
        for (Resource source : sources) {
            for (Ref ref : refs) {
                if (!ref.source().equals(source.fhirType())) {
                    continue;
                }
                for (Reference reference : ref.references(source)) {
                    var target = reference.getReferenceElement();
                    if (target.hasBaseUrl() || seen.contains(target.getResourceType() + "/" + target.getIdPart())) {
                        continue; // another server's record, or already in the Bundle
                    }
                    Ids.parse(target.getIdPart()).ifPresent(id ->
                            wanted.computeIfAbsent(target.getResourceType(), t -> new LinkedHashSet<>()).add(id));
                }
            }
        }
        List<Resource> found = new ArrayList<>();
        for (var entry : wanted.entrySet()) {
            String type = entry.getKey();
            PatientScope.Clause scope = readableScope(type);
            if (scope == DENIED) {
                continue;
            }
            limit(found.size() + entry.getValue().size());
            for (Resource resource : store.readCurrent(type, List.copyOf(entry.getValue()), scope)) {
                if (seen.add(key(resource))) {
                    found.add(resource);
                }
            }
        }
        return found;
    }

    /** Records of the matched patients by their patient link (the compartment column), narrowed to scope. */
    private List<Resource> reverse(List<Resource> patients, List<Ref> refs, Set<String> seen) {
        if (refs.isEmpty() || patients.isEmpty()) {
            return List.of();
        }
        String[] compartments = patients.stream().map(p -> "Patient/" + p.getIdElement().getIdPart()).toArray(String[]::new);
        List<Resource> found = new ArrayList<>();
        for (String source : refs.stream().map(Ref::source).distinct().sorted().toList()) {
            PatientScope.Clause scope = readableScope(source);
            if (scope == DENIED) {
                continue;
            }
            List<Object> args = new ArrayList<>(List.of(source, compartments));
            if (scope != null) {
                args.addAll(scope.args());
            }
            List<UUID> ids = jdbc.sql("select r.resource_id from phi.resource r where r.resource_type = ? "
                            + "and r.compartment = any(?) and not r.deleted and not " + RecordStore.SHREDDED_CURRENT
                            + " and (" + (scope == null ? "true" : scope.sql()) + ") order by r.last_updated, r.resource_id"
                            + " limit " + (maxIncluded + 1))
                    .params(args)
                    .query(UUID.class)
                    .list();
            limit(found.size() + ids.size());
            for (Resource resource : store.readCurrent(source, ids)) {
                if (seen.add(key(resource))) {
                    found.add(resource);
                }
            }
        }
        return found;
    }

    /** Marks a type the caller may not read at all: nothing of it is loaded. */
    private static final PatientScope.Clause DENIED = new PatientScope.Clause("false", List.of());

    /**
     * The caller's scope for reading {@code type} as SQL (null: everything), or {@link #DENIED},
     * audited as a denial of that type, when nothing of it may be read.
     */
    private PatientScope.Clause readableScope(String type) {
        String path = "/fhir/" + type;
        AccessEnforcement.Scopes scopes = AccessEnforcement.scopesOf(guard, Interaction.READ, type, path);
        if (scopes.empty()) {
            // audited like any refused read; the search itself goes on without these records
            guard.refuse(scopes.other().caller().principal(), scopes.other().reason(), path, null);
            return DENIED;
        }
        return RecordSearch.scopeClause(scopes);
    }

    private void limit(int count) {
        if (count > maxIncluded) {
            throw SafeFhirException.badRequest("This page would include more than " + maxIncluded
                    + " records; ask for fewer results per page (_count) or fewer includes");
        }
    }

    private static String key(IBaseResource resource) {
        return resource.getIdElement().getResourceType() + "/" + resource.getIdElement().getIdPart();
    }

    /** A search's results that bring their includes along on every page, paged and scoped as the search. */
    private final class Including implements IBundleProvider, SearchResults.Scoped {
        private final IBundleProvider matches;
        private final Requested requested;

        Including(IBundleProvider matches, Requested requested) {
            this.matches = matches;
            this.requested = requested;
        }

        @Override
        public List<IBaseResource> getResources(int from, int to) {
            return with(matches.getResources(from, to), requested);
        }

        @Override
        public Integer size() {
            return matches.size();
        }

        @Override
        public IPrimitiveType<java.util.Date> getPublished() {
            return matches.getPublished();
        }

        @Override
        public String getUuid() {
            return null;
        }

        @Override
        public Integer preferredPageSize() {
            return matches.preferredPageSize();
        }

        @Override
        public String type() {
            return ((SearchResults.Scoped) matches).type();
        }

        @Override
        public AccessEnforcement.Scopes scopes() {
            return ((SearchResults.Scoped) matches).scopes();
        }
    }
}
