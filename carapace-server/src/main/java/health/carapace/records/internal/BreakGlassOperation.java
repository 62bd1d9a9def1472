package health.carapace.records.internal;

import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import health.carapace.access.AccessDecision;
import health.carapace.access.BreakGlass;
import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.access.RecordAccess;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
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

    private final BreakGlass breakGlass;
    private final RecordAccess access;
    private final RecordGuard guard;
    private final RecordStore store;

    BreakGlassOperation(BreakGlass breakGlass, RecordAccess access, RecordGuard guard, RecordStore store) {
        this.breakGlass = breakGlass;
        this.access = access;
        this.guard = guard;
        this.store = store;
    }

    @Operation(name = "$break-glass", idempotent = false)
    public Parameters open(@OperationParam(name = "patient", min = 1, max = 1) Reference patient,
            @OperationParam(name = "reason", min = 1, max = 1) StringType reason, HttpServletRequest request) {
        String path = "/fhir/$break-glass";
        Caller caller = Callers.of(request).orElseThrow(() -> guard.refuse(RecordAudit.user(), "no-caller", path, null));
        String target = patientOf(patient);
        AccessDecision allowed = access.mayOpenBreakGlass(caller, guard.address(request), Instant.now());
        if (!allowed.allowed()) {
            throw guard.refuse(caller.principal(), allowed.reason(), path, target);
        }
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
    public Parameters close(@OperationParam(name = "patient", min = 1, max = 1) Reference patient,
            HttpServletRequest request) {
        Caller caller = Callers.of(request)
                .orElseThrow(() -> guard.refuse(RecordAudit.user(), "no-caller", "/fhir/$break-glass-close", null));
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
