package health.carapace.records.internal;

import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import health.carapace.access.BreakGlass;
import health.carapace.access.Caller;
import java.util.Date;
import java.util.UUID;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;

/**
 * {@code POST /fhir/$break-glass} (Parameters: {@code patient} reference, {@code reason} string):
 * opens time-boxed emergency access to one patient. {@code POST /fhir/$break-glass-close}
 * (Parameters: {@code patient}) ends it early. The reason is mandatory and goes straight to the
 * encrypted store; it is never logged or echoed.
 */
final class BreakGlassOperation {

    /** The operations' names, as HAPI gives them ({@link AccessEnforcement} decides them before parsing). */
    static final java.util.Set<String> OPERATIONS = java.util.Set.of("$break-glass", "$break-glass-close");

    private final BreakGlass breakGlass;
    private final RecordGuard guard;
    private final RecordStore store;

    BreakGlassOperation(BreakGlass breakGlass, RecordGuard guard, RecordStore store) {
        this.breakGlass = breakGlass;
        this.guard = guard;
        this.store = store;
    }

    @Operation(name = "$break-glass", idempotent = false)
    public Parameters open(@OperationParam(name = "patient", min = 1, max = 1) Reference patient,
            @OperationParam(name = "reason", min = 1, max = 1) StringType reason) {
        // decided before the patient is looked up (and already before parsing, by AccessEnforcement)
        Caller caller = guard.checkBreakGlass("/fhir/$break-glass");
        String target = patientOf(patient);
        String text = reason == null ? null : reason.getValue();
        if (text == null || text.isBlank() || text.strip().length() > BreakGlass.MAX_REASON_LENGTH) {
            throw SafeFhirException.badRequest("A reason of 1 to " + BreakGlass.MAX_REASON_LENGTH
                    + " characters is required to open emergency access");
        }
        BreakGlass.Grant grant = breakGlass.open(caller, target, text, RecordAudit.context());
        Parameters out = new Parameters();
        out.addParameter("grant", grant.id().toString());
        out.addParameter().setName("patient").setValue(new Reference(target));
        out.addParameter().setName("expires").setValue(new InstantType(Date.from(grant.expiresAt())));
        return out;
    }

    @Operation(name = "$break-glass-close", idempotent = false)
    public Parameters close(@OperationParam(name = "patient", min = 1, max = 1) Reference patient) {
        Caller caller = guard.checkBreakGlass("/fhir/$break-glass-close");
        boolean closed = breakGlass.close(caller, patientOf(patient), RecordAudit.context());
        Parameters out = new Parameters();
        out.addParameter("closed", closed);
        return out;
    }

    /** The patient named, which must exist here; 404 otherwise (the reference is never echoed). */
    private String patientOf(Reference reference) {
        IdType id = reference == null || !reference.hasReference() ? null : new IdType(reference.getReference());
        if (id == null || !"Patient".equals(id.getResourceType())) {
            throw SafeFhirException.badRequest("Parameter patient must reference a Patient (Patient/<id>)");
        }
        UUID uuid = Ids.parse(id.getIdPart()).orElseThrow(SafeFhirException::notFound);
        if (!store.exists("Patient", uuid)) {
            throw SafeFhirException.notFound();
        }
        return "Patient/" + uuid;
    }
}
