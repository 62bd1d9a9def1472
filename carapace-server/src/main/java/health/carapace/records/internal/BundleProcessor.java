package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.BundleEntryResponseComponent;
import org.hl7.fhir.r4.model.Bundle.BundleType;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@code POST /fhir} with a batch or transaction Bundle. A transaction runs in one database
 * transaction and fails as a whole; a batch runs each entry on its own and reports each.
 * Supported entries: POST (create, with {@code ifNoneExist}), PUT (update of {@code Type/id} with
 * {@code ifMatch}, or conditional update {@code Type?criteria}), PATCH of {@code Type/id} (a
 * {@code Binary} holding a JSON Patch, or a {@code Parameters} FHIRPath Patch, with {@code ifMatch}),
 * DELETE and GET of one resource.
 *
 * <p>A transaction takes its locks in one global order (ADR 0035), so that two transactions, or a
 * transaction and a single write, never wait for each other in a cycle: (1) the advisory locks of
 * the types its conditional entries search, by type name ({@link ConditionalCriteria#lockInOrder});
 * (2) the row of every record it changes (PUT, PATCH, DELETE targets, including those conditional
 * criteria resolved to), by type and id, in one statement ({@link RecordStore#lockForChange});
 * (3) as each entry is written, its patient's shredding lock, shared (writers never wait for each
 * other on it). A single-request write takes a subset of these, in the same order.
 */
final class BundleProcessor {

    private final FhirContext fhir;
    private final RecordStore store;
    private final TransactionTemplate transactions;
    private final RecordAudit audit;
    private final RecordGuard guard;
    private final RecordReads reads;
    private final ConditionalCriteria conditional;
    private final RecordPatch patches;
    private final StrictBody strictBody;

    BundleProcessor(FhirContext fhir, RecordStore store, TransactionTemplate transactions, RecordAudit audit,
            RecordGuard guard, RecordReads reads, ConditionalCriteria conditional, RecordPatch patches,
            StrictBody strictBody) {
        this.conditional = conditional;
        this.patches = patches;
        this.strictBody = strictBody;
        this.fhir = fhir;
        this.store = store;
        this.transactions = transactions;
        this.audit = audit;
        this.guard = guard;
        this.reads = reads;
    }

    @Transaction
    public Bundle process(@TransactionParam Bundle bundle, ca.uhn.fhir.rest.api.server.RequestDetails request) {
        if (bundle.getType() == BundleType.TRANSACTION) {
            // lock order, step 1 on this node: the conditional types, before a connection is held
            return minimalIfPreferred(request, bundle, conditional.oneAtATimePerType(conditionalTypes(bundle.getEntry()),
                    () -> transactions.execute(status -> store.checkingReferencesAtTheEnd(() -> transaction(bundle)))));
        }
        if (bundle.getType() == BundleType.BATCH) {
            return minimalIfPreferred(request, bundle, batch(bundle));
        }
        throw SafeFhirException.badRequest("Only batch and transaction Bundles can be posted to the base URL");
    }

    /**
     * {@code Prefer: return=minimal} (FHIR R4 http.html#ops): each entry's response keeps its status,
     * location, ETag and last-modified but not the resource it wrote (a GET entry keeps what it
     * read: that is its answer). A client loading data needs only the locations; encoding (and
     * masking, and sending over TLS) every record it just sent was a third of the server's CPU per
     * seeded record (issue 13 item 6). Less leaves the server, never more.
     */
    private static Bundle minimalIfPreferred(ca.uhn.fhir.rest.api.server.RequestDetails request, Bundle bundle,
            Bundle response) {
        String prefer = request == null ? null : request.getHeader(ca.uhn.fhir.rest.api.Constants.HEADER_PREFER);
        if (prefer == null || ca.uhn.fhir.rest.server.RestfulServerUtils.parsePreferHeader(null, prefer).getReturn()
                != ca.uhn.fhir.rest.api.PreferReturnEnum.MINIMAL) {
            return response;
        }
        for (int i = 0; i < response.getEntry().size(); i++) {
            if (bundle.getEntry().get(i).getRequest().getMethod() != HTTPVerb.GET) {
                response.getEntry().get(i).setResource(null);
            }
        }
        return response;
    }

    private Bundle transaction(Bundle bundle) {
        List<BundleEntryComponent> entries = bundle.getEntry();
        Map<String, String> assigned = new HashMap<>();
        Map<Integer, UUID> newIds = new HashMap<>();
        Map<Integer, UUID> existing = new HashMap<>();
        Map<Integer, UUID> updateTargets = new HashMap<>();
        // lock order, step 1: the types of the conditional entries, by name, each after its decision
        conditional.lockInOrder(conditionalTypes(entries));
        for (int i = 0; i < entries.size(); i++) {
            BundleEntryComponent entry = entries.get(i);
            if (isConditionalUpdate(entry)) {
                // resolved first, so that references to it name the record it updates or creates
                String type = supported(entry.getResource()).fhirType();
                java.util.Optional<UUID> match = conditional.match(type, conditionalType(entry, type));
                UUID id = match.orElseGet(UUID::randomUUID);
                (match.isPresent() ? updateTargets : newIds).put(i, id);
                if (entry.hasFullUrl()) {
                    assigned.put(entry.getFullUrl(), type + "/" + id);
                }
                continue;
            }
            if (entry.getRequest().getMethod() == HTTPVerb.POST && entry.hasResource()
                    && entry.getRequest().hasIfNoneExist()) {
                // conditional create: resolved first, so that references to it name the record found
                java.util.Optional<UUID> match = conditional.match(supported(entry.getResource()).fhirType(),
                        entry.getRequest().getIfNoneExist());
                if (match.isPresent()) {
                    conditional.revealed(entry.getResource().fhirType(), match.get());
                    existing.put(i, match.get());
                    if (entry.hasFullUrl()) {
                        assigned.put(entry.getFullUrl(), entry.getResource().fhirType() + "/" + match.get());
                    }
                    continue;
                }
            }
            if (entry.getRequest().getMethod() == HTTPVerb.POST && entry.hasResource()) {
                UUID id = UUID.randomUUID();
                newIds.put(i, id);
                if (entry.hasFullUrl()) {
                    assigned.put(entry.getFullUrl(), entry.getResource().fhirType() + "/" + id);
                }
            }
        }
        for (BundleEntryComponent entry : entries) {
            if (entry.hasResource()) {
                rewriteReferences(entry.getResource(), assigned);
            }
        }
        // lock order, step 2: every record the transaction changes, by type and id, before any is written
        store.lockForChange(changedRecords(entries, updateTargets));
        // FHIR processing order: DELETE, POST, PUT and PATCH, GET; patients first among creates, so that
        // resources created in the same transaction can be placed in their compartment; Provenance
        // writes after every other write, since a Provenance is placed in its targets' compartment,
        // which the transaction may be creating or changing.
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingInt((Integer i) -> phase(entries.get(i))).thenComparingInt(i -> i));
        Bundle response = new Bundle().setType(BundleType.TRANSACTIONRESPONSE);
        BundleEntryComponent[] results = new BundleEntryComponent[entries.size()];
        // every entry's event, inserted together once all entries ran: still in this transaction, so
        // they commit (or roll back) with the entries and fail it closed; one statement per Bundle
        // instead of one round trip per entry (issue 13 item 6)
        List<AuditEvent> events = new ArrayList<>(entries.size());
        boolean keysMade = false;
        for (int i : order) {
            if (!keysMade && phase(entries.get(i)) >= 1) {
                // after the deletes, before the first create: the new patients' keys at once
                keysMade = true;
                makeKeysOfNewPatients(entries, newIds);
            }
            if (existing.containsKey(i)) {
                BundleEntryComponent found = new BundleEntryComponent();
                found.getResponse().setStatus("200 OK")
                        .setLocation(entries.get(i).getResource().fhirType() + "/" + existing.get(i));
                results[i] = found;
                continue;
            }
            try {
                results[i] = execute(entries.get(i), newIds.get(i), updateTargets.get(i), events);
            } catch (BaseServerResponseException e) {
                throw failedEntry(i, e);
            }
        }
        audit.trail().recordInTransaction(events);
        for (BundleEntryComponent result : results) {
            response.addEntry(result);
        }
        return response;
    }

    /**
     * The data keys of the patients this transaction creates (POST, or a conditional PUT that
     * matched nothing), in one keyring transaction (issue 13 item 6: one per patient was a commit
     * each). Each patient's create is decided first, as its entry will be again, and refused the
     * same way, so a caller who may not create a patient gets no key made for it.
     */
    private void makeKeysOfNewPatients(List<BundleEntryComponent> entries, Map<Integer, UUID> newIds) {
        List<UUID> patients = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            BundleEntryComponent entry = entries.get(i);
            UUID id = newIds.get(i);
            if (id == null || !(entry.getResource() instanceof org.hl7.fhir.r4.model.Patient patient)
                    || phase(entry) != 1) {
                continue;
            }
            try {
                store.decideCreate(patient, id);
            } catch (BaseServerResponseException e) {
                throw failedEntry(i, e);
            }
            patients.add(id);
        }
        store.makeFirstKeys(patients);
    }

    private static SafeFhirException failedEntry(int i, BaseServerResponseException e) {
        return new SafeFhirException(e.getStatusCode(), OperationOutcome.IssueType.PROCESSING,
                "Transaction entry " + i + " failed (" + e.getStatusCode() + "); nothing was stored. "
                        + (e instanceof SafeFhirException ? e.getMessage() : ErrorSanitiser.genericMessage(e.getStatusCode())));
    }

    /** The types the conditional entries search (each entry's resource type, which must be served). */
    private List<String> conditionalTypes(List<BundleEntryComponent> entries) {
        return entries.stream()
                .filter(BundleProcessor::isConditional)
                .map(entry -> supported(entry.getResource()).fhirType())
                .toList();
    }

    /** The records a transaction's PUT, PATCH and DELETE entries change (not those it creates). */
    private static List<RecordStore.Key> changedRecords(List<BundleEntryComponent> entries,
            Map<Integer, UUID> updateTargets) {
        List<RecordStore.Key> changed = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            BundleEntryComponent entry = entries.get(i);
            HTTPVerb method = entry.getRequest().getMethod();
            if (updateTargets.containsKey(i)) {
                changed.add(new RecordStore.Key(entry.getResource().fhirType(), updateTargets.get(i)));
            } else if ((method == HTTPVerb.PUT || method == HTTPVerb.PATCH || method == HTTPVerb.DELETE)
                    && !isConditionalUpdate(entry)) {
                IdType target = target(entry, null);
                changed.add(new RecordStore.Key(target.getResourceType(), uuid(target)));
            }
        }
        return changed;
    }

    private Bundle batch(Bundle bundle) {
        Bundle response = new Bundle().setType(BundleType.BATCHRESPONSE);
        if (bundle.getEntry().stream().filter(BundleProcessor::isConditional).count()
                > ConditionalCriteria.MAX_CONDITIONAL_ENTRIES) {
            throw ConditionalCriteria.tooManyConditionalEntries();
        }
        for (BundleEntryComponent entry : bundle.getEntry()) {
            try {
                response.addEntry(conditional.oneAtATimePerType(conditionalTypes(List.of(entry)),
                        () -> transactions.execute(status -> {
                            List<AuditEvent> events = new ArrayList<>(1);
                            BundleEntryComponent result = execute(entry, null, null, events);
                            audit.trail().recordInTransaction(events);
                            return result;
                        })));
            } catch (BaseServerResponseException e) {
                SafeFhirException safe = e instanceof SafeFhirException s ? s
                        : new SafeFhirException(e.getStatusCode(), OperationOutcome.IssueType.PROCESSING,
                                ErrorSanitiser.genericMessage(e.getStatusCode()));
                BundleEntryComponent failed = new BundleEntryComponent();
                failed.getResponse().setStatus(Integer.toString(safe.getStatusCode()))
                        .setOutcome((OperationOutcome) safe.getOperationOutcome());
                response.addEntry(failed);
            }
        }
        return response;
    }

    /**
     * Runs one entry. In a transaction, {@code newId} is the id a create (or a conditional update
     * that matched nothing) gets, and {@code updateTarget} the record a conditional update matched;
     * in a batch both are null and conditional entries are resolved here. The entry's audit event is
     * added to {@code events}, which the caller inserts in the same database transaction before it
     * commits.
     */
    private BundleEntryComponent execute(BundleEntryComponent entry, UUID newId, UUID updateTarget,
            List<AuditEvent> events) {
        HTTPVerb method = entry.getRequest().getMethod();
        if (method == null) {
            throw SafeFhirException.badRequest("Every entry needs request.method");
        }
        BundleEntryComponent result = new BundleEntryComponent();
        BundleEntryResponseComponent response = result.getResponse();
        switch (method) {
            case POST -> {
                Resource resource = supported(entry.getResource());
                if (entry.getRequest().hasIfNoneExist()) {
                    // in a batch (a transaction resolved it before): found means nothing is created
                    java.util.Optional<UUID> match = newId == null
                            ? conditional.match(resource.fhirType(), entry.getRequest().getIfNoneExist())
                            : java.util.Optional.empty();
                    if (match.isPresent()) {
                        conditional.revealed(resource.fhirType(), match.get());
                        response.setStatus("200 OK").setLocation(resource.fhirType() + "/" + match.get());
                        return result;
                    }
                }
                RecordStore.Written written = store.create(resource, newId);
                Resource created = written.resource();
                events.add(audit.change(AuditAction.CREATED, created.fhirType(), created.getIdElement().getIdPart(),
                        java.util.Optional.ofNullable(written.patient())));
                describe(response, "201 Created", created);
                result.setResource(created);
            }
            case PUT -> {
                Resource resource = supported(entry.getResource());
                if (isConditionalUpdate(entry)) {
                    return conditionalUpdate(entry, resource, newId, updateTarget, events);
                }
                IdType target = target(entry, resource.fhirType());
                if (resource.hasIdElement() && !target.getIdPart().equals(resource.getIdElement().getIdPart())) {
                    throw SafeFhirException.badRequest("The resource id does not match the entry's request URL");
                }
                Long expected = entry.getRequest().hasIfMatch()
                        ? parseETag(entry.getRequest().getIfMatch()) : null;
                RecordStore.Written written = store.update(target.getResourceType(), uuid(target), resource, expected);
                Resource updated = written.resource();
                events.add(audit.change(AuditAction.MODIFIED, target.getResourceType(), target.getIdPart(),
                        java.util.Optional.ofNullable(written.patient())));
                describe(response, "200 OK", updated);
                result.setResource(updated);
            }
            case PATCH -> {
                IdType target = target(entry, null);
                RecordPatch.Document document = RecordPatch.Document.inBundle(fhir, entry.getResource(), strictBody);
                java.util.OptionalLong ifMatch = entry.getRequest().hasIfMatch()
                        ? java.util.OptionalLong.of(parseETag(entry.getRequest().getIfMatch()))
                        : java.util.OptionalLong.empty();
                RecordPatch.Patched patched = patches.apply(target.getResourceType(), uuid(target), document.body(),
                        ifMatch, document.type());
                RecordStore.Written written = store.update(target.getResourceType(), uuid(target), patched.resource(),
                        patched.version());
                events.add(audit.change(AuditAction.MODIFIED, target.getResourceType(), target.getIdPart(),
                        java.util.Optional.ofNullable(written.patient())));
                describe(response, "200 OK", written.resource());
                result.setResource(written.resource());
            }
            case DELETE -> {
                IdType target = target(entry, null);
                String compartment = store.compartmentOfCurrent(target.getResourceType(), uuid(target));
                store.delete(target.getResourceType(), uuid(target));
                events.add(audit.change(AuditAction.DELETED, target.getResourceType(), target.getIdPart(),
                        java.util.Optional.ofNullable(compartment).filter(c -> c.startsWith("Patient/"))));
                response.setStatus("204 No Content");
            }
            case GET -> {
                IdType target = target(entry, null);
                // decided like a read request, on the version's row, before decrypting; a version part
                // that names no version (letters, too large for a long) is a 404, not the current version
                boolean versioned = target.hasVersionIdPart();
                RecordReads.Decided decided = reads.decide(target.getResourceType(), java.util.Optional.of(uuid(target)),
                        versioned, versioned ? Ids.version(target.getVersionIdPart()) : java.util.OptionalLong.empty());
                Resource read = store.open(decided.row());
                // a read inside a bundle is durable with the entry's transaction, before the response
                events.add(audit.viewed("/fhir/" + target.getResourceType() + "/" + target.getIdPart(),
                        decided.patient(), decided.breakGlass()));
                describe(response, "200 OK", read);
                result.setResource(read);
            }
            default -> throw SafeFhirException.badRequest("Entry method " + method.toCode() + " is not supported");
        }
        return result;
    }

    /**
     * {@code PUT Type?criteria} in a Bundle: no match in the caller's scope creates (under the id the
     * transaction assigned), one updates it (with {@code ifMatch} honoured), several are a 412.
     */
    private BundleEntryComponent conditionalUpdate(BundleEntryComponent entry, Resource resource, UUID newId,
            UUID updateTarget, List<AuditEvent> events) {
        String type = resource.fhirType();
        java.util.Optional<UUID> match = updateTarget != null ? java.util.Optional.of(updateTarget)
                : newId != null ? java.util.Optional.empty()
                : conditional.match(type, conditionalType(entry, type));
        BundleEntryComponent result = new BundleEntryComponent();
        if (match.isEmpty()) {
            resource.setId((String) null);
            RecordStore.Written written = store.create(resource, newId);
            events.add(audit.change(AuditAction.CREATED, type, written.resource().getIdElement().getIdPart(),
                    java.util.Optional.ofNullable(written.patient())));
            describe(result.getResponse(), "201 Created", written.resource());
            return result.setResource(written.resource());
        }
        if (resource.getIdElement().hasIdPart() && !resource.getIdElement().getIdPart().equals(match.get().toString())) {
            throw SafeFhirException.badRequest("The resource id does not match the record the criteria select");
        }
        Long expected = entry.getRequest().hasIfMatch() ? parseETag(entry.getRequest().getIfMatch()) : null;
        RecordStore.Written written = store.update(type, match.get(), resource, expected);
        events.add(audit.change(AuditAction.MODIFIED, type, match.get().toString(), java.util.Optional.ofNullable(written.patient())));
        describe(result.getResponse(), "200 OK", written.resource());
        return result.setResource(written.resource());
    }

    /** The criteria of a conditional update entry, whose URL must search the type it carries. */
    private static String conditionalType(BundleEntryComponent entry, String type) {
        String url = entry.getRequest().getUrl();
        if (!url.startsWith(type + "?")) {
            throw SafeFhirException.badRequest("A conditional update's URL must search the type of the resource it carries");
        }
        return url;
    }

    private static boolean isConditionalUpdate(BundleEntryComponent entry) {
        return entry.getRequest().getMethod() == HTTPVerb.PUT && entry.hasResource()
                && entry.getRequest().getUrl() != null && entry.getRequest().getUrl().contains("?");
    }

    /** An entry resolved by a search under its type's lock: a conditional create or update. */
    private static boolean isConditional(BundleEntryComponent entry) {
        return isConditionalUpdate(entry) || (entry.getRequest().getMethod() == HTTPVerb.POST && entry.hasResource()
                && entry.getRequest().hasIfNoneExist());
    }

    private static void describe(BundleEntryResponseComponent response, String status, Resource resource) {
        response.setStatus(status)
                .setLocation(resource.getIdElement().toUnqualified().getValue())
                .setEtag("W/\"" + resource.getMeta().getVersionId() + "\"")
                .setLastModified(resource.getMeta().getLastUpdated());
    }

    private Resource supported(Resource resource) {
        if (resource == null || !ResourceTypes.names().contains(resource.fhirType())) {
            throw SafeFhirException.badRequest("An entry carries no resource, or one of an unsupported type");
        }
        return resource;
    }

    private static IdType target(BundleEntryComponent entry, String expectedType) {
        String url = entry.getRequest().getUrl();
        if (url == null || url.contains("?")) {
            throw SafeFhirException.badRequest("Entry URLs must name one resource (Type/id); in bundles only PUT "
                    + "takes conditional criteria (and POST its ifNoneExist)");
        }
        IdType id = new IdType(url);
        if (!id.hasResourceType() || !ResourceTypes.names().contains(id.getResourceType())
                || (expectedType != null && !expectedType.equals(id.getResourceType()))) {
            throw SafeFhirException.badRequest("An entry URL names an unsupported or mismatched resource type");
        }
        return id;
    }

    private static UUID uuid(IdType id) {
        return Ids.require(id.getIdPart());
    }

    private static Long parseETag(String etag) {
        String digits = etag.replaceAll("^W/", "").replace("\"", "");
        return Ids.version(digits).stream().boxed().findFirst().orElseThrow(() ->
                new SafeFhirException(412, OperationOutcome.IssueType.CONFLICT, "ifMatch must name a version number"));
    }

    /**
     * Where an entry runs in a transaction: DELETE; POST (or conditional PUT) of a Patient; other POSTs; PUT and PATCH;
     * writes of a Provenance (placed in its targets' compartment, so after them); GET.
     */
    private static int phase(BundleEntryComponent entry) {
        HTTPVerb method = entry.getRequest().getMethod();
        if (method == null) {
            return 6;
        }
        boolean provenance = entry.getResource() instanceof org.hl7.fhir.r4.model.Provenance;
        return switch (method) {
            case DELETE -> 0;
            case POST -> provenance ? 4 : entry.getResource() instanceof org.hl7.fhir.r4.model.Patient ? 1 : 2;
            // a conditional update of a Patient may create it: with the patient creates, before its records
            case PUT, PATCH -> provenance ? 4 : isConditionalUpdate(entry)
                    && entry.getResource() instanceof org.hl7.fhir.r4.model.Patient ? 1 : 3;
            case GET, HEAD -> 5;
            default -> 6;
        };
    }

    private void rewriteReferences(Resource resource, Map<String, String> assigned) {
        if (assigned.isEmpty()) {
            return;
        }
        for (Reference reference : fhir.newTerser().getAllPopulatedChildElementsOfType(resource, Reference.class)) {
            String target = assigned.get(reference.getReference());
            if (target != null) {
                reference.setReference(target);
            }
        }
    }
}
