package health.carapace.records.internal;

import ca.uhn.fhir.model.api.ResourceMetadataKeyEnum;
import ca.uhn.fhir.model.valueset.BundleEntryTransactionMethodEnum;
import ca.uhn.fhir.rest.annotation.Create;
import ca.uhn.fhir.rest.annotation.Delete;
import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.annotation.Update;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.IResourceProvider;
import health.carapace.audit.AuditAction;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The FHIR interactions of one resource type. One instance per type; the type-specific parts
 * (compartments, search parameters) live in tables, not in subclasses.
 */
final class ResourceProvider implements IResourceProvider {

    private final Class<? extends Resource> type;
    private final String typeName;
    private final RecordStore store;
    private final RecordSearch search;
    private final TransactionTemplate transactions;
    private final RecordAudit audit;
    private final Inclusions inclusions;
    private final RecordHistory history;

    ResourceProvider(Class<? extends Resource> type, RecordStore store, RecordSearch search,
            TransactionTemplate transactions, RecordAudit audit, Inclusions inclusions, RecordHistory history) {
        this.inclusions = inclusions;
        this.history = history;
        this.type = type;
        this.typeName = type.getSimpleName();
        this.store = store;
        this.search = search;
        this.transactions = transactions;
        this.audit = audit;
    }

    @Override
    public Class<? extends IBaseResource> getResourceType() {
        return type;
    }

    /**
     * Declared so that HAPI routes read and vread here and lists them in the capability
     * statement; {@link RecordReads} serves them completely, in the access decision's hook,
     * before HAPI would call this.
     */
    @Read(version = true)
    public Resource read(@IdParam IdType id) {
        throw new IllegalStateException("Reads are served by RecordReads before HAPI calls a provider");
    }

    @Create
    public MethodOutcome create(@ResourceParam IBaseResource resource,
            @ca.uhn.fhir.rest.annotation.ConditionalUrlParam String ifNoneExist) {
        if (ifNoneExist != null) {
            // Ignoring the header would create a duplicate the client asked us not to create; the
            // search it names could not be decided and narrowed like a search either (as in bundles).
            throw SafeFhirException.badRequest("Conditional create (If-None-Exist) is not supported");
        }
        RecordStore.Written created = transactions.execute(status -> {
            RecordStore.Written written = store.create(checkType(resource), null);
            audit.changed(AuditAction.CREATED, typeName, written.resource().getIdElement().getIdPart(),
                    java.util.Optional.ofNullable(written.patient()));
            return written;
        });
        return new MethodOutcome(created.resource().getIdElement(), true).setResource(StoredEcho.attach(created));
    }

    @Update
    public MethodOutcome update(@IdParam IdType id, @ResourceParam IBaseResource resource) {
        UUID uuid = Ids.parse(id.getIdPart()).orElseThrow(() -> new SafeFhirException(405,
                org.hl7.fhir.r4.model.OperationOutcome.IssueType.NOTSUPPORTED,
                "This server assigns resource ids: create new resources with POST"));
        // If-Match naming no possible version (not digits, or too large for a long) cannot match: 412.
        Long expected = id.hasVersionIdPart() ? Ids.version(id.getVersionIdPart()).stream().boxed().findFirst()
                .orElseThrow(() -> new SafeFhirException(412, org.hl7.fhir.r4.model.OperationOutcome.IssueType.CONFLICT,
                        "If-Match must name a version number")) : null;
        RecordStore.Written updated = transactions.execute(status -> {
            RecordStore.Written written = store.update(typeName, uuid, checkType(resource), expected);
            audit.changed(AuditAction.MODIFIED, typeName, uuid.toString(), java.util.Optional.ofNullable(written.patient()));
            return written;
        });
        return new MethodOutcome(updated.resource().getIdElement(), false).setResource(StoredEcho.attach(updated));
    }

    @Delete
    public MethodOutcome delete(@IdParam IdType id) {
        if (id == null || !id.hasIdPart()) {
            // DELETE Type?criteria: HAPI passes no id
            throw SafeFhirException.badRequest("Conditional delete is not supported: delete one resource by its id");
        }
        UUID uuid = Ids.require(id.getIdPart());
        transactions.executeWithoutResult(status -> {
            String patient = store.compartmentOfCurrent(typeName, uuid);
            store.delete(typeName, uuid);
            audit.changed(AuditAction.DELETED, typeName, uuid.toString(),
                    java.util.Optional.ofNullable(patient).filter(c -> c.startsWith("Patient/")));
        });
        return new MethodOutcome();
    }

    @History
    public List<IBaseResource> history(@IdParam IdType id) {
        UUID uuid = Ids.require(id.getIdPart());
        List<IBaseResource> versions = new ArrayList<>();
        for (RecordStore.Row row : store.history(typeName, uuid)) {
            versions.add(RecordHistory.entry(store, row));
        }
        return versions;
    }

    /** The type's history, narrowed to the caller's scope ({@link AccessEnforcement} decided it). */
    @History
    public IBundleProvider typeHistory(RequestDetails request, @ca.uhn.fhir.rest.annotation.Since InstantType since) {
        @SuppressWarnings("unchecked")
        var scopes = (java.util.Map<String, AccessEnforcement.Scopes>) request.getUserData()
                .get(AccessEnforcement.SCOPES_BY_TYPE_KEY);
        if (scopes == null || !scopes.containsKey(typeName)) {
            throw RecordGuard.forbidden("no-decision");
        }
        return history.of(scopes, since == null || since.getValue() == null ? null : since.getValue().toInstant());
    }

    @Search(allowUnknownParams = true)
    public IBundleProvider search(RequestDetails request) {
        Inclusions.Requested includes = Inclusions.parse(typeName, request.getParameters());
        IBundleProvider results = inclusions.around(search.search(typeName, request.getParameters(),
                (AccessEnforcement.Scopes) request.getUserData().get(AccessEnforcement.SCOPE_KEY),
                Boolean.TRUE.equals(request.getUserData().get(AccessEnforcement.SSN_VISIBLE_KEY))), includes);
        // kept for the response, whose self link may have to become an opaque page link
        request.getUserData().put(OpaqueSearchLinks.RESULTS_KEY, results);
        return results;
    }

    private Resource checkType(IBaseResource resource) {
        if (!type.isInstance(resource)) {
            throw SafeFhirException.badRequest("The body is not a " + typeName + " resource");
        }
        return (Resource) resource;
    }
}
