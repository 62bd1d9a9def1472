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
 * and are discarded after it, so the stored record never changes.
 */
@Interceptor
final class SsnMasking {

    static final String SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn";
    /** The same namespace under its OID (HL7 v2 and CDA feeds send this one). */
    static final String SSN_OID = "urn:oid:2.16.840.1.113883.4.1";
    /** Identifier type "SS" (Social Security number) in HL7's v2-0203 table. */
    private static final String V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203";
    /** An SSN written out in free text (the narrative), with or without separators. */
    private static final java.util.regex.Pattern SSN_TEXT =
            java.util.regex.Pattern.compile("(?<![0-9])[0-9]{3}([- ]?)[0-9]{2}\\1[0-9]{4}(?![0-9])");

    private final FhirContext fhir;
    private final RecordGuard guard;

    SsnMasking(FhirContext fhir, RecordGuard guard) {
        this.fhir = fhir;
        this.guard = guard;
    }

    @Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
    public boolean mask(RequestDetails request, IBaseResource response) {
        if (response == null || !mayHoldSsn(response) || guard.maySeeSsn()) {
            return true;
        }
        maskAll(response);
        return true;
    }

    private void maskAll(IBaseResource resource) {
        if (resource instanceof Bundle bundle) {
            for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
                if (entry.hasResource()) {
                    maskAll(entry.getResource());
                }
            }
            return;
        }
        if (resource instanceof Parameters parameters) {
            parameters.getParameter().stream().filter(p -> p.hasResource()).forEach(p -> maskAll(p.getResource()));
            return;
        }
        for (Identifier identifier : fhir.newTerser().getAllPopulatedChildElementsOfType(resource, Identifier.class)) {
            if (isSsn(identifier) && identifier.hasValue()) {
                identifier.setValue(masked(identifier.getValue()));
            }
        }
        if (resource instanceof DomainResource domain && domain.hasText() && domain.getText().hasDiv()) {
            // The narrative is a human-readable copy of the record and often repeats the SSN.
            String div = domain.getText().getDivAsString();
            String maskedDiv = SSN_TEXT.matcher(div).replaceAll(match -> masked(match.group()));
            if (!maskedDiv.equals(div)) {
                domain.getText().setDivAsString(maskedDiv);
            }
        }
        if (resource instanceof DomainResource domain) {
            for (Resource contained : domain.getContained()) {
                maskAll(contained);
            }
        }
    }

    /** An SSN: in the us-ssn namespace (by URL or OID), or typed SS whatever its system. */
    static boolean isSsn(Identifier identifier) {
        return isSsnSystem(identifier.getSystem()) || identifier.getType().getCoding().stream()
                .anyMatch(c -> V2_0203.equals(c.getSystem()) && "SS".equals(c.getCode()));
    }

    static boolean isSsnSystem(String system) {
        return SSN_SYSTEM.equals(system) || SSN_OID.equals(system);
    }

    /** {@code ***-**-} and the last four digits; fewer than four digits are all masked. */
    static String masked(String ssn) {
        String digits = ssn.replaceAll("[^0-9]", "");
        return "***-**-" + (digits.length() >= 4 ? digits.substring(digits.length() - 4) : "****");
    }

    private static boolean mayHoldSsn(IBaseResource response) {
        return !(response instanceof org.hl7.fhir.r4.model.OperationOutcome)
                && !(response instanceof org.hl7.fhir.r4.model.CapabilityStatement);
    }
}
