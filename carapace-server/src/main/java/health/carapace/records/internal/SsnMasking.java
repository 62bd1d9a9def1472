package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Resource;

/**
 * Masks SSN identifiers ({@code ***-**-6789}, last four kept) in every response to a caller
 * without {@code view:ssn}: reads, searches, history, bundle responses, create and update echoes,
 * contained resources. On the way out only: the resources here were decrypted for this response
 * and are discarded after it, so the stored record never changes. What is an SSN is decided by
 * {@link SsnRule} alone; a masked value sent back is restored by {@link MaskedWriteBack}.
 */
@Interceptor
final class SsnMasking {

    private final FhirContext fhir;
    private final RecordGuard guard;

    SsnMasking(FhirContext fhir, RecordGuard guard) {
        this.fhir = fhir;
        this.guard = guard;
    }

    @Hook(value = Pointcut.SERVER_OUTGOING_RESPONSE, order = InterceptorOrder.SSN_MASKING)
    public boolean mask(RequestDetails request, IBaseResource response) {
        if (response == null || !mayHoldSsn(response) || guard.maySeeSsn()) {
            return true;
        }
        maskAll(fhir, response);
        return true;
    }

    /** Masks, in place, every SSN that {@link SsnRule} recognises in a resource about to be sent. */
    static void maskAll(FhirContext fhir, IBaseResource resource) {
        if (resource instanceof Bundle bundle) {
            for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
                // A record whose sealed verdict says it holds no SSN is not walked: the verdict a read
                // relies on to send it unmasked (StoredJson; judged by this SsnRule, JDK and HAPI).
                if (entry.hasResource() && !judgedWithoutSsn(entry.getResource())) {
                    maskAll(fhir, entry.getResource());
                }
            }
            return;
        }
        if (resource instanceof Parameters parameters) {
            parameters.getParameter().stream().filter(p -> p.hasResource()).forEach(p -> maskAll(fhir, p.getResource()));
            return;
        }
        for (Identifier identifier : fhir.newTerser().getAllPopulatedChildElementsOfType(resource, Identifier.class)) {
            if (SsnRule.isSsn(identifier) && identifier.hasValue()) {
                identifier.setValue(SsnRule.masked(identifier.getValue()));
            }
        }
        if (resource instanceof Resource own) {
            for (var string : SsnBearingStrings.of(own).values()) {
                if (SsnBearingStrings.holdsSsn(string)) {
                    string.setValue(SsnRule.masked(string.getValue()));
                }
            }
        }
        if (resource instanceof DomainResource domain && domain.hasText() && domain.getText().hasDiv()) {
            // The narrative is a human-readable copy of the record and often repeats the SSN.
            SsnRule.maskNarrative(domain.getText().getDiv());
        }
        if (resource instanceof DomainResource domain) {
            for (Resource contained : domain.getContained()) {
                maskAll(fhir, contained);
            }
        }
    }

    /**
     * Whether {@link #maskAll} would change anything in {@code resource}: the same walk (identifiers
     * of the resource and of contained resources, the narrative), without changing it.
     */
    static boolean holdsSsn(FhirContext fhir, Resource resource) {
        if (resource instanceof Bundle bundle) {
            return bundle.getEntry().stream().anyMatch(entry -> entry.hasResource() && holdsSsn(fhir, entry.getResource()));
        }
        if (resource instanceof Parameters parameters) {
            return parameters.getParameter().stream().anyMatch(p -> p.hasResource() && holdsSsn(fhir, p.getResource()));
        }
        for (Identifier identifier : fhir.newTerser().getAllPopulatedChildElementsOfType(resource, Identifier.class)) {
            if (SsnRule.isSsn(identifier) && identifier.hasValue()) {
                return true;
            }
        }
        if (SsnBearingStrings.of(resource).values().stream().anyMatch(SsnBearingStrings::holdsSsn)) {
            return true;
        }
        if (resource instanceof DomainResource domain) {
            if (domain.hasText() && domain.getText().hasDiv() && !SsnRule.ssnsInNarrative(domain.getText().getDiv()).isEmpty()) {
                return true;
            }
            for (Resource contained : domain.getContained()) {
                if (holdsSsn(fhir, contained)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A record loaded with its stored JSON, whose verdict says it holds no SSN (StoredBundle). */
    private static boolean judgedWithoutSsn(Resource resource) {
        return resource.getUserData(StoredBundle.STORED) instanceof StoredJson stored
                && stored.ssn() == StoredJson.Ssn.ABSENT;
    }

    private static boolean mayHoldSsn(IBaseResource response) {
        return !(response instanceof org.hl7.fhir.r4.model.OperationOutcome)
                && !(response instanceof org.hl7.fhir.r4.model.CapabilityStatement);
    }
}
