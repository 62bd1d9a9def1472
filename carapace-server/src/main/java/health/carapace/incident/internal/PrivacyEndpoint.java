package health.carapace.incident.internal;

import health.carapace.access.Caller;
import health.carapace.audit.AuditContext;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.Map;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The privacy register ({@code manage:incidents}, audited): {@code PUT /admin/privacy/patients/{id}/flags}
 * flags a patient as a VIP or an employee; {@code PUT /admin/privacy/principals/{principal}} links a
 * user or service client to the Patient that represents them (self-access).
 */
@RestController
class PrivacyEndpoint {

    private static final Pattern PATIENT = Pattern.compile(
            "Patient/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern PRINCIPAL = Pattern.compile("svc-[0-9a-f-]{36}|" + Caller.USER_NAME.pattern());

    private final PrivacyRegister register;
    private final health.carapace.records.FamilyNameIndex familyNames;

    PrivacyEndpoint(PrivacyRegister register, health.carapace.records.FamilyNameIndex familyNames) {
        this.register = register;
        this.familyNames = familyNames;
    }

    /** Body of the family-name route: the name (tokenised at once, never stored), or null to remove it. */
    record FamilyNameBody(String familyName) {}

    /**
     * Sets the family name the {@code same-family-name} detector compares (docs/INCIDENTS.md): only
     * its blind-index token is kept, and the answer does not repeat the name.
     */
    @PutMapping("/admin/privacy/principals/{principal}/family-name")
    ResponseEntity<String> familyName(@PathVariable("principal") String principal, HttpServletRequest request)
            throws IOException {
        if (!PRINCIPAL.matcher(principal).matches()) {
            return AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID,
                    "The path names a user name or a service client id");
        }
        FamilyNameBody body;
        try {
            body = AdminJson.read(request, FamilyNameBody.class, "A principal's family name");
        } catch (AdminJson.BadBody bad) {
            return AdminJson.outcome(bad);
        }
        health.carapace.records.FamilyNameIndex.Token token = null;
        if (body.familyName() != null) {
            if (body.familyName().length() > 200) {
                return AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID,
                        "familyName is at most 200 characters");
            }
            var tokenised = familyNames.tokenOf(body.familyName());
            if (tokenised.isEmpty()) {
                return AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID,
                        "familyName needs at least three letters to be compared");
            }
            token = tokenised.get();
        }
        register.familyName(principal, token, IncidentsEndpoint.actor(request), AuditContext.of(request));
        return AdminJson.ok(HttpStatus.OK, Map.of("principal", principal, "familyName", token == null ? "removed" : "set"));
    }

    /** Body of the flags route. */
    record FlagsBody(boolean vip, boolean employee) {}

    /** Body of the principal route: the Patient reference, or null to unlink. */
    record LinkBody(String patient) {}

    @PutMapping("/admin/privacy/patients/{id}/flags")
    ResponseEntity<String> flag(@PathVariable("id") String id, HttpServletRequest request) throws IOException {
        String patient = "Patient/" + id;
        if (!PATIENT.matcher(patient).matches()) {
            return AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID, "The path names a patient id");
        }
        FlagsBody flags;
        try {
            flags = AdminJson.read(request, FlagsBody.class, "A patient's flags");
        } catch (AdminJson.BadBody bad) {
            return AdminJson.outcome(bad);
        }
        register.flag(patient, new PrivacyRegister.Flags(flags.vip(), flags.employee()),
                IncidentsEndpoint.actor(request), AuditContext.of(request));
        return AdminJson.ok(HttpStatus.OK, Map.of("patient", patient, "vip", flags.vip(), "employee", flags.employee()));
    }

    @PutMapping("/admin/privacy/principals/{principal}")
    ResponseEntity<String> link(@PathVariable("principal") String principal, HttpServletRequest request)
            throws IOException {
        if (!PRINCIPAL.matcher(principal).matches()) {
            return AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID,
                    "The path names a user name or a service client id");
        }
        LinkBody link;
        try {
            link = AdminJson.read(request, LinkBody.class, "A principal's link");
        } catch (AdminJson.BadBody bad) {
            return AdminJson.outcome(bad);
        }
        if (link.patient() != null && !PATIENT.matcher(link.patient()).matches()) {
            return AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID,
                    "patient is a reference of the form Patient/<id>, or null");
        }
        register.linkPatient(principal, link.patient(), IncidentsEndpoint.actor(request), AuditContext.of(request));
        return AdminJson.ok(HttpStatus.OK, java.util.Collections.singletonMap("patient", link.patient()));
    }
}
