package health.carapace.console.internal;

import health.carapace.access.Permissions;
import health.carapace.audit.AuditIntegrity;
import health.carapace.compliance.ComplianceReports;
import health.carapace.console.ConsoleApp;
import health.carapace.crypto.KeyRotation;
import health.carapace.incident.Drills;
import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Incidents;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * The dashboard: a card per area the viewer's permissions open, read from what each module
 * already exposes (open incidents with their clocks, the latest compliance report, key versions
 * and jobs, audit sealing and verification, the last drill, the last outside scan). A person holding none of those
 * permissions is refused (audited).
 */
@Controller
class DashboardPage {

    static final List<String> ANY_CARD = List.of(Permissions.VIEW_INCIDENTS, Permissions.VIEW_AUDIT,
            Permissions.VIEW_COMPLIANCE, Permissions.MANAGE_KEYS, Permissions.VIEW_METRICS);

    /** The compliance report as the dashboard shows it. */
    public record ComplianceCard(Instant measuredAt, String overall) {}

    /** Audit sealing and verification, as the audit-integrity detector reads them. */
    public record AuditCard(Instant lastVerificationAt, boolean lastVerificationOk, Instant oldestUnsealed,
            boolean sealerBehind, boolean witnessMissing) {}

    /** The key-encryption key's current version, its age, and running jobs. */
    public record KeysCard(List<KeyRotation.Key> keks, long runningJobs, long keysOverWarning) {}

    private final ConsoleAccess access;
    private final Incidents incidents;
    private final Drills drills;
    private final ComplianceReports compliance;
    private final AuditIntegrity auditIntegrity;
    private final KeyRotation keys;
    private final Clock clock;

    DashboardPage(ConsoleAccess access, Incidents incidents, Drills drills, ComplianceReports compliance,
            AuditIntegrity auditIntegrity, KeyRotation keys, Clock clock) {
        this.access = access;
        this.incidents = incidents;
        this.drills = drills;
        this.compliance = compliance;
        this.auditIntegrity = auditIntegrity;
        this.keys = keys;
        this.clock = clock;
    }

    @GetMapping(ConsoleApp.PATH)
    String dashboard(HttpServletRequest request, Model model) {
        access.requireAny(request, ANY_CARD, ConsoleApp.PATH);
        Instant now = clock.instant();
        if (access.grants(request, Permissions.VIEW_INCIDENTS)) {
            List<Incident> open = incidents.list(new Incidents.Filter(null, null, null, null, null, null, 1000)).stream()
                    .filter(incident -> incident.state() != IncidentState.RESOLVED && incident.state() != IncidentState.CLOSED)
                    .sorted(Comparator.comparing(Incident::detectedAt).reversed())
                    .toList();
            model.addAttribute("openIncidents", open);
            model.addAttribute("drills", drills.report(now));
        }
        if (access.grants(request, Permissions.VIEW_COMPLIANCE)) {
            List<ComplianceReports.Stored> reports = compliance.stored();
            model.addAttribute("compliance", reports.isEmpty() ? null : new ComplianceCard(
                    reports.get(reports.size() - 1).measuredAt(), reports.get(reports.size() - 1).overall().name()));
            // the latest outside scan (./carapace compliance scan), through the compliance module's own read
            model.addAttribute("lastScan", compliance.lastScan().orElse(null));
        }
        if (access.grants(request, Permissions.VIEW_AUDIT)) {
            // heads signed more than a minute ago are expected in the witness directory by now
            AuditIntegrity.Status status = auditIntegrity.status(now.minus(Duration.ofMinutes(1)));
            model.addAttribute("audit", new AuditCard(status.lastVerificationAt(), status.lastVerificationOk(),
                    status.oldestUnsealed(),
                    status.oldestUnsealed() != null && status.oldestUnsealed().isBefore(now.minus(Duration.ofMinutes(1))),
                    status.witnessMissing()));
        }
        if (access.grants(request, Permissions.MANAGE_KEYS) || access.grants(request, Permissions.VIEW_METRICS)) {
            KeyRotation.Status status = keys.status();
            model.addAttribute("keys", new KeysCard(
                    status.keys().stream().filter(key -> "kek".equals(key.kind())).toList(),
                    status.jobs().stream().filter(job -> "running".equals(job.state())).count(),
                    status.keys().stream().filter(KeyRotation.Key::warning).count()));
        }
        model.addAttribute("title", "Dashboard");
        return "console/dashboard";
    }
}
