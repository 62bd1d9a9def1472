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
    private final ConditionalCriteria conditional;
    private final RecordPatch patches;

    ResourceProvider(Class<? extends Resource> type, RecordStore store, RecordSearch search,
            TransactionTemplate transactions, RecordAudit audit, Inclusions inclusions, RecordHistory history,
            ConditionalCriteria conditional, RecordPatch patches) {
        this.conditional = conditional;
        this.patches = patches;
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
        Resource checked = checkType(resource);
        record Outcome(RecordStore.Written written, UUID existing) {}
        Outcome outcome = conditional.oneAtATimePerType(ifNoneExist == null ? List.of() : List.of(typeName),
                () -> transactions.execute(status -> {
            if (ifNoneExist != null) {
                // If-None-Exist: resolved like a search in the caller's scope; a match means nothing is created
                java.util.Optional<UUID> existing = conditional.match(typeName, ifNoneExist);
                if (existing.isPresent()) {
                    conditional.revealed(typeName, existing.get());
                    return new Outcome(null, existing.get());
                }
            }
            RecordStore.Written written = store.create(checked, null);
            audit.changed(AuditAction.CREATED, typeName, written.resource().getIdElement().getIdPart(),
                    java.util.Optional.ofNullable(written.patient()));
            return new Outcome(written, null);
        }));
        if (outcome.existing() != null) {
            // 200 with the existing record's id only: nothing of it is read or sent
            return new MethodOutcome(new IdType(typeName, outcome.existing().toString()), false);
        }
        return new MethodOutcome(outcome.written().resource().getIdElement(), true)
                .setResource(StoredEcho.attach(outcome.written()));
    }

    @Update
    public MethodOutcome update(@IdParam IdType id, @ResourceParam IBaseResource resource,
            @ca.uhn.fhir.rest.annotation.ConditionalUrlParam String conditionalUrl) {
        Resource checked = checkType(resource);
        if (id == null || !id.hasIdPart()) {
            return conditionalUpdate(checked, conditionalUrl);
        }
        UUID uuid = Ids.parse(id.getIdPart()).orElseThrow(() -> new SafeFhirException(405,
                org.hl7.fhir.r4.model.OperationOutcome.IssueType.NOTSUPPORTED,
                "This server assigns resource ids: create new resources with POST"));
        // If-Match naming no possible version (not digits, or too large for a long) cannot match: 412.
        Long expected = id.hasVersionIdPart() ? Ids.version(id.getVersionIdPart()).stream().boxed().findFirst()
                .orElseThrow(() -> new SafeFhirException(412, org.hl7.fhir.r4.model.OperationOutcome.IssueType.CONFLICT,
                        "If-Match must name a version number")) : null;
        RecordStore.Written updated = transactions.execute(status -> {
            RecordStore.Written written = store.update(typeName, uuid, checked, expected);
            audit.changed(AuditAction.MODIFIED, typeName, uuid.toString(), java.util.Optional.ofNullable(written.patient()));
            return written;
        });
        return new MethodOutcome(updated.resource().getIdElement(), false).setResource(StoredEcho.attach(updated));
    }

    /**
     * {@code PUT Type?criteria}: no match in the caller's scope creates (this server assigns the
     * id), one updates it, several are a 412. A body id other than the match's is refused.
     */
    private MethodOutcome conditionalUpdate(Resource resource, String conditionalUrl) {
        if (conditionalUrl == null) {
            throw SafeFhirException.badRequest("An update names one resource (Type/id) or conditional criteria (Type?...)");
        }
        record Outcome(RecordStore.Written written, boolean created) {}
        Outcome outcome = conditional.oneAtATimePerType(List.of(typeName), () -> transactions.execute(status -> {
            java.util.Optional<UUID> match = conditional.match(typeName, conditionalUrl);
            if (match.isEmpty()) {
                resource.setId((String) null);
                RecordStore.Written written = store.create(resource, null);
                audit.changed(AuditAction.CREATED, typeName, written.resource().getIdElement().getIdPart(),
                        java.util.Optional.ofNullable(written.patient()));
                return new Outcome(written, true);
            }
            if (resource.getIdElement().hasIdPart() && !resource.getIdElement().getIdPart().equals(match.get().toString())) {
                throw SafeFhirException.badRequest("The resource id does not match the record the criteria select");
            }
            RecordStore.Written written = store.update(typeName, match.get(), resource, null);
            audit.changed(AuditAction.MODIFIED, typeName, match.get().toString(),
                    java.util.Optional.ofNullable(written.patient()));
            return new Outcome(written, false);
        }));
        return new MethodOutcome(outcome.written().resource().getIdElement(), outcome.created())
                .setResource(StoredEcho.attach(outcome.written()));
    }

    /**
     * JSON Patch (RFC 6902) or FHIRPath Patch, decided as a patch of the current version, applied to it as this
     * caller would read it, then stored through the update path ({@link RecordPatch}).
     */
    @ca.uhn.fhir.rest.annotation.Patch
    public MethodOutcome patch(@IdParam IdType id, ca.uhn.fhir.rest.api.PatchTypeEnum patchType,
            @ResourceParam String body, @ca.uhn.fhir.rest.annotation.ConditionalUrlParam String conditionalUrl) {
        if (patchType != ca.uhn.fhir.rest.api.PatchTypeEnum.JSON_PATCH
                && patchType != ca.uhn.fhir.rest.api.PatchTypeEnum.FHIR_PATCH_JSON
                && patchType != ca.uhn.fhir.rest.api.PatchTypeEnum.FHIR_PATCH_XML) {
            throw new SafeFhirException(415, org.hl7.fhir.r4.model.OperationOutcome.IssueType.NOTSUPPORTED,
                    "PATCH takes a JSON Patch (application/json-patch+json) or a FHIRPath Patch (a Parameters resource "
                            + "as application/fhir+json or application/fhir+xml); XML Patch is not supported");
        }
        boolean byCriteria = id == null || !id.hasIdPart();
        RecordStore.Written updated = conditional.oneAtATimePerType(byCriteria ? List.of(typeName) : List.of(),
                () -> transactions.execute(status -> {
                UUID uuid;
                if (id == null || !id.hasIdPart()) {
                    if (conditionalUrl == null) {
                        throw SafeFhirException.badRequest("A patch names one resource (Type/id) or conditional criteria");
                    }
                    uuid = conditional.match(typeName, conditionalUrl).orElseThrow(SafeFhirException::notFound);
                } else {
                    uuid = Ids.parse(id.getIdPart()).orElseThrow(SafeFhirException::notFound);
                }
                java.util.OptionalLong ifMatch = id != null && id.hasVersionIdPart() ? versionOrConflict(id.getVersionIdPart())
                        : java.util.OptionalLong.empty();
                RecordPatch.Patched patched = patches.apply(typeName, uuid, body, ifMatch, patchType);
                RecordStore.Written written = store.update(typeName, uuid, patched.resource(), patched.version());
                audit.changed(AuditAction.MODIFIED, typeName, uuid.toString(), java.util.Optional.ofNullable(written.patient()));
                return written;
        }));
        return new MethodOutcome(updated.resource().getIdElement(), false).setResource(StoredEcho.attach(updated));
    }

    private static java.util.OptionalLong versionOrConflict(String version) {
        java.util.OptionalLong parsed = Ids.version(version);
        if (parsed.isEmpty()) {
            throw new SafeFhirException(412, org.hl7.fhir.r4.model.OperationOutcome.IssueType.CONFLICT,
                    "If-Match must name a version number");
        }
        return parsed;
    }

    @Delete
    public MethodOutcome delete(@IdParam IdType id,
            @ca.uhn.fhir.rest.annotation.ConditionalUrlParam String conditionalUrl) {
        boolean byCriteria = id == null || !id.hasIdPart();
        conditional.oneAtATimePerType(byCriteria ? List.of(typeName) : List.of(), () -> transactions.execute(status -> {
            UUID uuid;
            if (byCriteria) {
                // DELETE Type?criteria: no match in the caller's scope deletes nothing (204), several are a 412
                java.util.Optional<UUID> match = conditional.match(typeName, conditionalUrl);
                if (match.isEmpty()) {
                    return null;
                }
                uuid = match.get();
            } else {
                uuid = Ids.require(id.getIdPart());
            }
            String patient = store.compartmentOfCurrent(typeName, uuid);
            store.delete(typeName, uuid);
            audit.changed(AuditAction.DELETED, typeName, uuid.toString(),
                    java.util.Optional.ofNullable(patient).filter(c -> c.startsWith("Patient/")));
            return null;
        }));
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
