package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import health.carapace.audit.AuditAction;
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
 * Supported entries: POST (create), PUT (update, with If-Match), DELETE and GET of one resource.
 */
final class BundleProcessor {

    private final FhirContext fhir;
    private final RecordStore store;
    private final TransactionTemplate transactions;
    private final RecordAudit audit;
    private final RecordGuard guard;
    private final RecordReads reads;
    private final ConditionalCriteria conditional;

    BundleProcessor(FhirContext fhir, RecordStore store, TransactionTemplate transactions, RecordAudit audit,
            RecordGuard guard, RecordReads reads, ConditionalCriteria conditional) {
        this.conditional = conditional;
        this.fhir = fhir;
        this.store = store;
        this.transactions = transactions;
        this.audit = audit;
        this.guard = guard;
        this.reads = reads;
    }

    @Transaction
    public Bundle process(@TransactionParam Bundle bundle) {
        if (bundle.getType() == BundleType.TRANSACTION) {
            return transactions.execute(status -> store.checkingReferencesAtTheEnd(() -> transaction(bundle)));
        }
        if (bundle.getType() == BundleType.BATCH) {
            return batch(bundle);
        }
        throw SafeFhirException.badRequest("Only batch and transaction Bundles can be posted to the base URL");
    }

    private Bundle transaction(Bundle bundle) {
        List<BundleEntryComponent> entries = bundle.getEntry();
        Map<String, String> assigned = new HashMap<>();
        Map<Integer, UUID> newIds = new HashMap<>();
        Map<Integer, UUID> existing = new HashMap<>();
        // one lock order for every transaction, so that two conditional on the same types never wait for each other
        conditional.lockInOrder(entries.stream()
                .filter(entry -> entry.getRequest().getMethod() == HTTPVerb.POST && entry.hasResource()
                        && entry.getRequest().hasIfNoneExist())
                .map(entry -> supported(entry.getResource()).fhirType())
                .toList());
        for (int i = 0; i < entries.size(); i++) {
            BundleEntryComponent entry = entries.get(i);
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
        // FHIR processing order: DELETE, POST, PUT, GET; patients first among creates, so that
        // resources created in the same transaction can be placed in their compartment.
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingInt((Integer i) -> rank(entries.get(i)))
                .thenComparingInt(i -> isPatientCreate(entries.get(i)) ? 0 : 1)
                .thenComparingInt(i -> i));
        Bundle response = new Bundle().setType(BundleType.TRANSACTIONRESPONSE);
        BundleEntryComponent[] results = new BundleEntryComponent[entries.size()];
        for (int i : order) {
            if (existing.containsKey(i)) {
                BundleEntryComponent found = new BundleEntryComponent();
                found.getResponse().setStatus("200 OK")
                        .setLocation(entries.get(i).getResource().fhirType() + "/" + existing.get(i));
                results[i] = found;
                continue;
            }
            try {
                results[i] = execute(entries.get(i), newIds.get(i));
            } catch (BaseServerResponseException e) {
                throw new SafeFhirException(e.getStatusCode(), OperationOutcome.IssueType.PROCESSING,
                        "Transaction entry " + i + " failed (" + e.getStatusCode() + "); nothing was stored. "
                                + (e instanceof SafeFhirException ? e.getMessage() : ErrorSanitiser.genericMessage(e.getStatusCode())));
            }
        }
        for (BundleEntryComponent result : results) {
            response.addEntry(result);
        }
        return response;
    }

    private Bundle batch(Bundle bundle) {
        Bundle response = new Bundle().setType(BundleType.BATCHRESPONSE);
        if (bundle.getEntry().stream().filter(entry -> entry.getRequest().hasIfNoneExist()).count()
                > ConditionalCriteria.MAX_CONDITIONAL_ENTRIES) {
            throw ConditionalCriteria.tooManyConditionalEntries();
        }
        for (BundleEntryComponent entry : bundle.getEntry()) {
            try {
                response.addEntry(transactions.execute(status -> execute(entry, null)));
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

    private BundleEntryComponent execute(BundleEntryComponent entry, UUID newId) {
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
                audit.changed(AuditAction.CREATED, created.fhirType(), created.getIdElement().getIdPart(),
                        java.util.Optional.ofNullable(written.patient()));
                describe(response, "201 Created", created);
                result.setResource(created);
            }
            case PUT -> {
                Resource resource = supported(entry.getResource());
                IdType target = target(entry, resource.fhirType());
                if (resource.hasIdElement() && !target.getIdPart().equals(resource.getIdElement().getIdPart())) {
                    throw SafeFhirException.badRequest("The resource id does not match the entry's request URL");
                }
                Long expected = entry.getRequest().hasIfMatch()
                        ? parseETag(entry.getRequest().getIfMatch()) : null;
                RecordStore.Written written = store.update(target.getResourceType(), uuid(target), resource, expected);
                Resource updated = written.resource();
                audit.changed(AuditAction.MODIFIED, target.getResourceType(), target.getIdPart(),
                        java.util.Optional.ofNullable(written.patient()));
                describe(response, "200 OK", updated);
                result.setResource(updated);
            }
            case DELETE -> {
                IdType target = target(entry, null);
                String compartment = store.compartmentOfCurrent(target.getResourceType(), uuid(target));
                store.delete(target.getResourceType(), uuid(target));
                audit.changed(AuditAction.DELETED, target.getResourceType(), target.getIdPart(),
                        java.util.Optional.ofNullable(compartment).filter(c -> c.startsWith("Patient/")));
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
                audit.trail().recordInTransaction(java.util.List.of(audit.viewed(
                        "/fhir/" + target.getResourceType() + "/" + target.getIdPart(), decided.patient(),
                        decided.breakGlass())));
                describe(response, "200 OK", read);
                result.setResource(read);
            }
            default -> throw SafeFhirException.badRequest("Entry method " + method.toCode() + " is not supported");
        }
        return result;
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
            throw SafeFhirException.badRequest("Entry URLs must name one resource (Type/id); conditional and search "
                    + "URLs are not supported in bundles");
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

    private static int rank(BundleEntryComponent entry) {
        HTTPVerb method = entry.getRequest().getMethod();
        if (method == null) {
            return 4;
        }
        return switch (method) {
            case DELETE -> 0;
            case POST -> 1;
            case PUT, PATCH -> 2;
            case GET, HEAD -> 3;
            default -> 4;
        };
    }

    private static boolean isPatientCreate(BundleEntryComponent entry) {
        return entry.getRequest().getMethod() == HTTPVerb.POST && entry.getResource() instanceof org.hl7.fhir.r4.model.Patient;
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
