package health.carapace.audit.internal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditQueries;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.Disclosures;
import health.carapace.platform.logging.RequestIds;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /admin/audit/disclosures?patient=ID[&format=csv]}: the accounting of disclosures
 * for one patient (HIPAA §164.528, six years). Needs {@code view:audit} (security rules); the
 * report itself is a disclosure of audit data and is audited as {@code exported}.
 */
@RestController
class DisclosuresEndpoint {

    private final AuditQueries queries;
    private final AuditTrail audit;

    DisclosuresEndpoint(AuditQueries queries, AuditTrail audit) {
        this.queries = queries;
        this.audit = audit;
    }

    @GetMapping("/admin/audit/disclosures")
    ResponseEntity<String> disclosures(@RequestParam("patient") String patient,
            @RequestParam(name = "format", defaultValue = "json") String format, HttpServletRequest request) {
        String reference;
        try {
            reference = Disclosures.patientReference(patient);
        } catch (IllegalArgumentException notAnId) {
            return ResponseEntity.badRequest().contentType(MediaType.TEXT_PLAIN).body("patient must be a Patient id\n");
        }
        var authentication = SecurityContextHolder.getContext().getAuthentication();
        audit.record(List.of(AuditEvent.now(authentication == null ? "anonymous" : authentication.getName(),
                AuditAction.EXPORTED, "/admin/audit/disclosures", AuditContext.of(request), true, reference, null,
                RequestIds.current())));
        List<AuditQueries.StoredEvent> events = queries.disclosures(reference, Disclosures.windowStart(Instant.now()));
        return "csv".equals(format)
                ? ResponseEntity.ok().contentType(new MediaType("text", "csv")).body(Disclosures.csv(events))
                : ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(Disclosures.json(reference, events));
    }
}
