package health.carapace.records.internal;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.IPagingProvider;
import health.carapace.access.Interaction;
import health.carapace.access.PatientScope;
import health.carapace.access.Permissions;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.hl7.fhir.instance.model.api.IIdType;

/**
 * Decides every FHIR request before its handler runs, from metadata only: the operation and
 * resource type, and for one record the compartment (and category) of the version asked for, so
 * nothing is decrypted for a request that will be refused. Reads are served here too, right
 * after their decision ({@link RecordReads}). Searches get their scope here and are
 * narrowed to it in SQL ({@link RecordSearch}); writes are decided where the record's compartment
 * is known ({@link RecordStore}), and bundle entries one by one ({@link BundleProcessor}).
 */
@Interceptor
final class AccessEnforcement {

    /** Where a search finds its scope: set here, read by the provider. Absent means refuse. */
    static final String SCOPE_KEY = AccessEnforcement.class.getName() + ".scope";
    /** Whether SSN identifiers may match the search (view:ssn): set here, read by the provider. Absent means no. */
    static final String SSN_VISIBLE_KEY = AccessEnforcement.class.getName() + ".ssnVisible";

    /** The types a history or {@code $everything} spans, each with the caller's scope: set here, read by the handler. */
    static final String SCOPES_BY_TYPE_KEY = AccessEnforcement.class.getName() + ".scopesByType";

    /** Before any other check of the request's parameters at the same pointcut ({@link InterceptorOrder}). */
    static final int DECISION_ORDER = InterceptorOrder.DECISION;

    private final RecordGuard guard;
    private final RecordStore store;
    private final RecordReads reads;
    private final IPagingProvider paging;
    private final InstanceOperations operations;

    AccessEnforcement(RecordGuard guard, RecordStore store, RecordReads reads, IPagingProvider paging,
            InstanceOperations operations) {
        this.guard = guard;
        this.store = store;
        this.reads = reads;
        this.paging = paging;
        this.operations = operations;
    }

    /**
     * Runs once HAPI has chosen the handler (so the operation is known) and before it binds the
     * handler's parameters: a value that fails to parse (a date of month 13, say) must not reach
     * a parser, or produce any answer but 403, for a caller who may not make the request at all.
     * (At {@code SERVER_INCOMING_REQUEST_PRE_HANDLED} the parameters are already bound.)
     */
    @Hook(value = Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED, order = DECISION_ORDER)
    public boolean decide(RequestDetails request) {
        RestOperationTypeEnum operation = request.getRestOperationType();
        String type = request.getResourceName();
        if (operation == null) {
            throw guard.refuse(RecordAudit.user(), "unsupported-interaction", "/fhir", null);
        }
        switch (operation) {
            // decided, audited and answered in one pass over the row: HAPI goes no further
            case READ, VREAD -> {
                return reads.serve(request, operation == RestOperationTypeEnum.VREAD);
            }
            case HISTORY_INSTANCE -> history(request, type);
            case HISTORY_TYPE -> request.getUserData().put(SCOPES_BY_TYPE_KEY,
                    Map.of(type, scopes(Interaction.HISTORY, type)));
            case HISTORY_SYSTEM -> request.getUserData().put(SCOPES_BY_TYPE_KEY,
                    readable(Interaction.HISTORY, ResourceTypes.names(), "/fhir/_history"));
            case SEARCH_TYPE -> search(request, type);
            case GET_PAGE -> page(request);
            // Decided where the target's compartment is known, before anything is stored.
            case CREATE, UPDATE, PATCH, DELETE, TRANSACTION -> { }
            // Emergency access is decided before HAPI parses the Parameters body or the operation
            // looks the patient up: the same 403 for a caller who may not break glass, whatever is sent.
            case EXTENDED_OPERATION_SERVER -> {
                if (BreakGlassOperation.OPERATIONS.contains(request.getOperation())) {
                    guard.checkBreakGlass("/fhir/" + request.getOperation());
                }
            }
            // Another module's operation on one record ($start-visit): the caller must be allowed
            // to read that record. Operations no module serves are answered by their handler
            // (UnsupportedInteractions), decided on their type as before.
            case EXTENDED_OPERATION_INSTANCE -> {
                // An instance operation does more than read its record ($start-visit creates an
                // Encounter, re-issues the patient's link; $everything is a whole record): no SMART
                // scope grammar names one, so an app's token is refused every one, before anything
                // about the record is told.
                guard.refuseApps("/fhir/" + type + "/$" + request.getOperation());
                if ("Patient".equals(type) && PatientEverything.OPERATION.equals(request.getOperation())) {
                    // decided like a read of the patient (404, 403, 410 as a read), then narrowed per type
                    reads.decide(type, request.getId() == null ? Optional.empty() : Ids.parse(request.getId().getIdPart()),
                            false, java.util.OptionalLong.empty());
                    request.getUserData().put(SCOPES_BY_TYPE_KEY, readable(Interaction.READ,
                            PatientEverything.TYPES, "/fhir/Patient/" + request.getId().getIdPart() + "/$everything"));
                } else if (operations.serves(type, request.getOperation())) {
                    // decided like a read of the record, before the operation's body is parsed
                    reads.decide(type, request.getId() == null ? Optional.empty() : Ids.parse(request.getId().getIdPart()),
                            false, java.util.OptionalLong.empty());
                }
            }
            // metadata is public
            case METADATA -> { }
            default -> throw guard.refuse(RecordAudit.user(), "unsupported-interaction", "/fhir", null);
        }
        return true;
    }

    /**
     * The caller's non-empty scopes for {@code interaction} over each of {@code types}, in order;
     * refused (403, audited) when no type at all is in scope. Types left out are not audited:
     * the request named none of them.
     */
    private Map<String, Scopes> readable(Interaction interaction, java.util.Collection<String> types, String path) {
        Map<String, Scopes> readable = new java.util.LinkedHashMap<>();
        Scopes first = null;
        for (String type : types) {
            Scopes scopes = scopesOf(guard, interaction, type, path);
            first = first == null ? scopes : first;
            if (!scopes.empty()) {
                readable.put(type, scopes);
            }
        }
        if (readable.isEmpty()) {
            throw guard.refuse(first.other().caller().principal(), first.other().reason(), path, null);
        }
        return java.util.Collections.unmodifiableMap(readable);
    }

    private void history(RequestDetails request, String type) {
        Optional<UUID> uuid = request.getId() == null ? Optional.empty() : Ids.parse(request.getId().getIdPart());
        var placements = uuid.map(u -> store.placements(type, u)).orElse(java.util.List.of());
        if (placements.isEmpty()) {
            guard.scope(Interaction.HISTORY, type, null, path(type, uuid));
            return;
        }
        // every version returned must be allowed: a record may have moved between patients
        placements.stream().map(p -> java.util.Arrays.asList(p.compartment(), p.category())).distinct()
                .forEach(p -> guard.check(Interaction.HISTORY, type, p.get(0), p.get(1), path(type, uuid)));
    }

    private void search(RequestDetails request, String type) {
        if (SsnRule.searchMayCarrySsn(request.getParameters())) {
            boolean maySeeSsn = guard.maySeeSsn();
            if (!maySeeSsn && searchesSsn(request.getParameters())) {
                // An exact-match search would confirm an SSN the caller may not see: refused.
                throw guard.refuse(RecordAudit.user(), "ssn-search-needs-view-ssn", "/fhir/" + type, null);
            }
            // Read by the search itself: without view:ssn an SSN never counts as a match, so an
            // identifier typed SS under any system cannot be confirmed by a search either.
            request.getUserData().put(SSN_VISIBLE_KEY, maySeeSsn);
        }
        request.getUserData().put(SCOPE_KEY, scopes(type));
    }

    /** The scopes of a search of {@code type}; refused if nothing at all is in them. */
    private Scopes scopes(String type) {
        return scopes(Interaction.SEARCH, type);
    }

    /** The scopes of {@code interaction} over records of {@code type}; refused if nothing at all is in them. */
    private Scopes scopes(Interaction interaction, String type) {
        String path = "/fhir/" + type;
        Scopes scopes = scopesOf(guard, interaction, type, path);
        if (scopes.empty()) {
            throw guard.refuse(scopes.other().caller().principal(), scopes.other().reason(), path, null);
        }
        return scopes;
    }

    /**
     * The scopes in which the caller may take {@code interaction} on records of {@code type}, possibly
     * empty (nothing refused or audited here): the one place that works them out, for searches,
     * history and for the records a response brings along ({@link Inclusions}, {@code $everything}).
     */
    static Scopes scopesOf(RecordGuard guard, Interaction interaction, String type, String path) {
        if (!type.equals("DocumentReference")) {
            return new Scopes(guard.scopeOf(interaction, type, null, path), null);
        }
        PatientScope other = guard.scopeOf(interaction, type, null, path);
        PatientScope imaging = guard.scopeOf(interaction, type, Permissions.IMAGING_CATEGORY, path);
        return new Scopes(other, imaging);
    }

    /**
     * A page of an earlier search is a new request, decided again: the caller must still hold a
     * scope that covers the one the search ran under (a role, window or grant may have ended).
     */
    private void page(RequestDetails request) {
        String[] ids = request.getParameters().get("_getpages");
        IBundleProvider results = ids == null || ids.length == 0 ? null : paging.retrieveResultList(request, ids[0]);
        if (results == null) {
            return; // unknown or expired: HAPI answers 410
        }
        if (results instanceof SearchResults.MultiScoped multi) {
            for (var entry : multi.scopesByType().entrySet()) {
                Scopes now = scopesOf(guard, Interaction.SEARCH, entry.getKey(), "/fhir/" + entry.getKey());
                if (!covers(now, entry.getValue())) {
                    throw guard.refuse(RecordAudit.user(), "scope-changed", "/fhir/" + entry.getKey(), null);
                }
            }
            return;
        }
        if (!(results instanceof SearchResults.Scoped scoped)) {
            // results that could not be decided again are never served
            throw guard.refuse(RecordAudit.user(), "scope-changed", "/fhir", null);
        }
        if (!covers(scopes(scoped.type()), scoped.scopes())) {
            throw guard.refuse(RecordAudit.user(), "scope-changed", "/fhir/" + scoped.type(), null);
        }
    }

    private static boolean covers(Scopes now, Scopes then) {
        return covers(now.other(), then.other()) && (then.imaging() == null || covers(now.imaging(), then.imaging()));
    }

    private static boolean covers(PatientScope now, PatientScope then) {
        return (now.shared() || !then.shared()) && (now.allPatients() || !then.allPatients())
                && (now.allPatients() || now.related() || !then.related())
                && (now.allPatients() || now.breakGlassPatients().containsAll(then.breakGlassPatients()))
                && (now.onlyPatient() == null || now.onlyPatient().equals(then.onlyPatient()));
    }

    /** Whether a search could confirm an SSN ({@link SsnRule#searchNamesSsn}, the rule masking uses too). */
    static boolean searchesSsn(java.util.Map<String, String[]> parameters) {
        return SsnRule.searchNamesSsn(parameters);
    }

    private static String path(String type, Optional<UUID> id) {
        return "/fhir/" + type + id.map(u -> "/" + u).orElse("");
    }

    /**
     * The scope a search runs under; for DocumentReference also the scope of imaging documents,
     * which other permissions open.
     */
    record Scopes(PatientScope other, PatientScope imaging) {

        /** Whether nothing at all is in scope. */
        boolean empty() {
            return other.empty() && (imaging == null || imaging.empty());
        }
    }
}
