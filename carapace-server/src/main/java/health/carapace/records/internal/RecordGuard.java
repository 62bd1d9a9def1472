package health.carapace.records.internal;

import health.carapace.access.AccessDecision;
import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.access.ClientAddress;
import health.carapace.access.Interaction;
import health.carapace.access.PatientScope;
import health.carapace.access.Permissions;
import health.carapace.access.RecordAccess;
import health.carapace.audit.AuditUnavailableException;
import jakarta.servlet.http.HttpServletRequest;
import java.net.InetAddress;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * Puts every record interaction to the access policy: the caller of the request, its real client
 * address, the time, and the caller's relation to the patient whose compartment the record is in.
 * A refusal is audited (DENIED, with the policy's reason code) and answered with a 403
 * OperationOutcome naming that code and nothing from the request. What was allowed only through
 * emergency access is remembered for the request, so its audit events carry the break-glass flag.
 */
final class RecordGuard implements RecordStore.WriteGuard {

    /** Code system of the refusal reasons in an OperationOutcome's {@code issue.details}. */
    static final String REASON_SYSTEM = "https://carapace.health/fhir/CodeSystem/access-refusal";

    private static final Logger log = LoggerFactory.getLogger(RecordGuard.class);
    private static final String BREAK_GLASS_PATIENTS = RecordGuard.class.getName() + ".breakGlass";
    private static final String SCOPE = RecordGuard.class.getName() + ".scope";
    private static final String SSN = RecordGuard.class.getName() + ".ssn";

    private final RecordAccess access;
    private final ClientAddress addresses;
    private final RecordAudit audit;
    /** Decides the time windows of role assignments and break-glass grants. */
    private final Clock clock;

    RecordGuard(RecordAccess access, ClientAddress addresses, RecordAudit audit, Clock clock) {
        this.access = access;
        this.clock = clock;
        this.addresses = addresses;
        this.audit = audit;
    }

    /** Decides one interaction on one record; refuses (403, audited) unless the policy allows it. */
    @Override
    public void check(Interaction interaction, String type, String compartment, String category) {
        check(interaction, type, compartment, category, "/fhir/" + type);
    }

    void check(Interaction interaction, String type, String compartment, String category, String auditPath) {
        if (decide(interaction, type, compartment, category, auditPath).breakGlass()) {
            breakGlassPatients(request()).add(compartment);
        }
    }

    /**
     * Decides one interaction on one record and returns the allowing decision (with whether only
     * emergency access allowed it, for the caller's audit event); refuses (403, audited) otherwise.
     */
    AccessDecision decide(Interaction interaction, String type, String compartment, String category, String auditPath) {
        HttpServletRequest request = request();
        Caller caller = caller(request, auditPath);
        AccessDecision decision = access.decide(caller, interaction, type, category, compartment, address(request),
                clock.instant());
        if (!decision.allowed()) {
            throw refuse(caller.principal(), decision.reason(), auditPath, patient(compartment));
        }
        return decision;
    }

    /**
     * Emergency access is time-boxed: a CareTeam or Encounter written under it must not name the
     * caller's own practitioner, or the grant would outlive itself as a standing care relationship.
     * Recording the care of others stays possible (and is flagged for review with the write).
     */
    @Override
    public void checkCareLinks(String type, String compartment, List<java.util.UUID> practitioners) {
        if (practitioners.isEmpty()) {
            return;
        }
        HttpServletRequest request = request();
        @SuppressWarnings("unchecked")
        Set<String> marked = (Set<String>) request.getAttribute(BREAK_GLASS_PATIENTS);
        if (marked == null || !marked.contains(compartment)) {
            return;
        }
        Caller caller = caller(request, "/fhir/" + type);
        java.util.Optional<java.util.UUID> self = caller.practitionerId() == null ? java.util.Optional.empty()
                : Ids.parse(caller.practitionerId());
        if (self.isPresent() && practitioners.contains(self.get())) {
            throw refuse(caller.principal(), "break-glass-cannot-relate-caller", "/fhir/" + type, patient(compartment));
        }
    }

    /** The scope of a search of {@code type}; refuses (403, audited) if nothing at all is in it. */
    PatientScope scope(Interaction interaction, String type, String category, String auditPath) {
        PatientScope scope = scopeOf(interaction, type, category, auditPath);
        if (scope.empty()) {
            throw refuse(scope.caller().principal(), scope.reason(), auditPath, null);
        }
        return scope;
    }

    /** The scope of a search of {@code type} in {@code category}, possibly empty; remembered for the audit. */
    PatientScope scopeOf(Interaction interaction, String type, String category, String auditPath) {
        HttpServletRequest request = request();
        Caller caller = caller(request, auditPath);
        PatientScope scope = access.scope(caller, interaction, type, category, ResourceTypes.patientLink(type).isPresent()
                || type.equals("Patient"), address(request), clock.instant());
        @SuppressWarnings("unchecked")
        List<PatientScope> scopes = (List<PatientScope>) request.getAttribute(SCOPE);
        if (scopes == null) {
            scopes = new java.util.ArrayList<>();
            request.setAttribute(SCOPE, scopes);
        }
        scopes.add(scope);
        return scope;
    }

    @Override
    public RuntimeException refuseWrite(String reason, String type, String compartment) {
        return refuse(caller(request(), "/fhir/" + type).principal(), reason, "/fhir/" + type, patient(compartment));
    }

    /** Whether the caller may see SSNs unmasked (view:ssn); asked once per request. */
    @Override
    public boolean maySeeSsn() {
        HttpServletRequest request = request();
        Object known = request.getAttribute(SSN);
        if (known instanceof Boolean b) {
            return b;
        }
        boolean granted = Callers.of(request)
                .map(caller -> access.grants(caller, Permissions.VIEW_SSN, address(request), clock.instant()))
                .orElse(false);
        request.setAttribute(SSN, granted);
        return granted;
    }

    /** Whether records of this patient were reached, in the current request, only through emergency access. */
    static boolean viaBreakGlass(String patient) {
        if (patient == null || !(RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes)) {
            return false;
        }
        HttpServletRequest request = attributes.getRequest();
        @SuppressWarnings("unchecked")
        Set<String> marked = (Set<String>) request.getAttribute(BREAK_GLASS_PATIENTS);
        if (marked != null && marked.contains(patient)) {
            return true;
        }
        @SuppressWarnings("unchecked")
        List<PatientScope> scopes = (List<PatientScope>) request.getAttribute(SCOPE);
        return scopes != null && scopes.stream().anyMatch(scope -> scope.viaBreakGlass(patient));
    }

    /**
     * Whether the caller may break glass at all: some role of theirs would permit reading a
     * Patient under emergency access, now, from this address. Refuses (403, audited) otherwise.
     * Asked before anything of the request is parsed or looked up, so that a caller who may not
     * break glass learns nothing about the patient named, nor about the parameters.
     */
    Caller checkBreakGlass(String auditPath) {
        HttpServletRequest request = request();
        Caller caller = caller(request, auditPath);
        health.carapace.access.AccessDecision decision = access.mayOpenBreakGlass(caller, address(request), clock.instant());
        if (!decision.allowed()) {
            throw refuse(caller.principal(), decision.reason(), auditPath, null);
        }
        return caller;
    }

    /** Refuses (403 {@code outside-app-scope}, audited) a caller who came through a SMART app. */
    void refuseApps(String auditPath) {
        Caller caller = caller(request(), auditPath);
        if (caller.appScope().narrows()) {
            throw refuse(caller.principal(), health.carapace.access.AppScope.OUTSIDE_APP_SCOPE, auditPath, null);
        }
    }

    /** Records the refusal (durably, outside any transaction that will roll back) and builds the 403. */
    SafeFhirException refuse(String user, String reason, String auditPath, String patient) {
        try {
            audit.trail().record(List.of(audit.denied(user, auditPath, patient, reason)));
        } catch (AuditUnavailableException e) {
            // the refusal holds no PHI, so it is still sent
            log.warn("A refused record access could not be audited", e);
        }
        return forbidden(reason);
    }

    static SafeFhirException forbidden(String reason) {
        SafeFhirException refusal = new SafeFhirException(403, IssueType.FORBIDDEN, "Access denied: " + reason);
        ((OperationOutcome) refusal.getOperationOutcome()).getIssueFirstRep().getDetails()
                .addCoding().setSystem(REASON_SYSTEM).setCode(reason);
        return refusal;
    }

    private Caller caller(HttpServletRequest request, String auditPath) {
        return Callers.of(request).orElseThrow(() -> refuse(RecordAudit.user(), "no-caller", auditPath, null));
    }

    InetAddress address(HttpServletRequest request) {
        return addresses.resolve(request);
    }

    static HttpServletRequest request() {
        if (!(RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes)) {
            // records are only served over HTTP; anything else has no caller to decide for
            throw forbidden("no-caller");
        }
        return attributes.getRequest();
    }

    @SuppressWarnings("unchecked")
    private static Set<String> breakGlassPatients(HttpServletRequest request) {
        Set<String> marked = (Set<String>) request.getAttribute(BREAK_GLASS_PATIENTS);
        if (marked == null) {
            marked = new HashSet<>();
            request.setAttribute(BREAK_GLASS_PATIENTS, marked);
        }
        return marked;
    }

    static String patient(String compartment) {
        return compartment != null && compartment.startsWith("Patient/") ? compartment : null;
    }
}
