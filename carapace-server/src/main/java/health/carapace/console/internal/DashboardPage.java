package health.carapace.console.internal;

import health.carapace.access.Permissions;
import health.carapace.audit.AuditIntegrity;
import health.carapace.compliance.ComplianceReports;
import health.carapace.console.ConsoleApp;
import health.carapace.crypto.KeyRotation;
import health.carapace.incident.Clocks;
import health.carapace.incident.Drills;
import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Incidents;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
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

    /** The key-encryption key's current version, its age, and running jobs, as read at {@code readAt}. */
    public record KeysCard(List<KeyRotation.Key> keks, long runningJobs, long keysOverWarning, Instant readAt) {}

    /**
     * How long one reading of the key card serves every viewer. The reading counts and ranks the
     * keyring's data keys (a row per patient: whole-table work at a million patients), so 32 officers
     * on the dashboard must not each repeat it; the card says when it was read.
     */
    static final Duration KEY_FIGURES_AGE = Duration.ofSeconds(10);

    /**
     * One open incident on the dashboard: the clocks that ran out, and the next one still running
     * (its deadline and name). The incident's page shows every clock; the dashboard says what is
     * late and what is next, which a table of a dozen incidents can show at a glance.
     */
    public record IncidentRow(Incident incident, List<String> overdue, String nextClock, Instant nextBy) {

        static IncidentRow of(Incident incident, Instant now) {
            Clocks clocks = incident.clocks();
            List<String> overdue = clocks.overdue();
            String nextClock = null;
            Instant nextBy = null;
            String[] names = {"isolate", "alert", "plan", "individuals", "hhs", "media"};
            Instant[] deadlines = {clocks.isolateBy(), clocks.alertBy(), clocks.planBy(), clocks.individualsBy(),
                    clocks.hhsBy(), clocks.mediaBy()};
            for (int i = 0; i < names.length; i++) {
                Instant by = deadlines[i];
                boolean running = !overdue.contains(names[i]) && !clocks.met().contains(names[i])
                        && !(i == 0 && incident.containedAt() != null);
                if (by != null && by.isAfter(now) && running && (nextBy == null || by.isBefore(nextBy))) {
                    nextClock = names[i];
                    nextBy = by;
                }
            }
            return new IncidentRow(incident, overdue, nextClock, nextBy);
        }
    }

    /**
     * Open incidents: per state how many (counted up to {@link #COUNTED}, shown as "1000+" beyond:
     * a storm of thousands is when the page must still answer fast), and the newest few.
     */
    public record OpenIncidents(Map<IncidentState, Long> byState, long total, List<IncidentRow> newest) {
        public long hidden() {
            return total - newest.size();
        }

        /** A count as the page shows it: exact up to {@link #COUNTED}, then "1000+". */
        public String shown(long count) {
            return count >= COUNTED ? COUNTED + "+" : Long.toString(count);
        }

        /** The total as the page shows it: "at least" once any state reached the bound. */
        public String totalShown() {
            return byState.values().stream().anyMatch(count -> count >= COUNTED) ? total + "+" : Long.toString(total);
        }
    }

    /** Open incidents are counted per state up to this many. */
    static final long COUNTED = 1_000;

    /** Open incidents listed on the dashboard; the rest are counted and reached through the incidents list. */
    static final int SHOWN = 10;

    private final ConsoleAccess access;
    private final Incidents incidents;
    private final Drills drills;
    private final ComplianceReports compliance;
    private final AuditIntegrity auditIntegrity;
    private final KeyRotation keys;
    private final Clock clock;
    /** One entry: the shared reading. Loaded on the asking thread (concurrent askers wait for one load). */
    private final LoadingCache<Boolean, KeysCard> keyFigures;

    DashboardPage(ConsoleAccess access, Incidents incidents, Drills drills, ComplianceReports compliance,
            AuditIntegrity auditIntegrity, KeyRotation keys, Clock clock) {
        this.access = access;
        this.incidents = incidents;
        this.drills = drills;
        this.compliance = compliance;
        this.auditIntegrity = auditIntegrity;
        this.keys = keys;
        this.clock = clock;
        // Past its age a reading is read again by the one visit that finds it old, while the others
        // are still shown the old one (with a plain expiry every visit in flight waited for that
        // reading: a stall every ten seconds under 32 officers); never shown older than twice its age.
        this.keyFigures = Caffeine.newBuilder().refreshAfterWrite(KEY_FIGURES_AGE)
                .expireAfterWrite(KEY_FIGURES_AGE.multipliedBy(2)).executor(Runnable::run).build(unused -> readKeys());
    }

    @GetMapping(ConsoleApp.PATH)
    String dashboard(HttpServletRequest request, Model model) {
        access.requireAny(request, ANY_CARD, ConsoleApp.PATH);
        Instant now = clock.instant();
        if (access.grants(request, Permissions.VIEW_INCIDENTS)) {
            model.addAttribute("open", openIncidents(now));
            model.addAttribute("drills", drills.report(now));
        }
        if (access.grants(request, Permissions.VIEW_COMPLIANCE)) {
            model.addAttribute("compliance", compliance.latest()
                    .map(latest -> new ComplianceCard(latest.measuredAt(), latest.overall().name())).orElse(null));
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
            model.addAttribute("keys", keyFigures.get(Boolean.TRUE));
        }
        model.addAttribute("title", "Dashboard");
        return "console/dashboard";
    }

    private KeysCard readKeys() {
        KeyRotation.Status status = keys.status();
        return new KeysCard(status.keys().stream().filter(key -> "kek".equals(key.kind())).toList(),
                status.jobs().stream().filter(job -> "running".equals(job.state())).count(),
                status.keys().stream().filter(KeyRotation.Key::warning).count(), clock.instant());
    }

    /**
     * Every open incident counted, the newest {@link #SHOWN} listed: two indexed statements whatever
     * the number of incidents ({@link Incidents#open}), so a thousand open incidents (a detector firing on a bulk load, say)
     * neither hide an old one from the count nor make the page render a thousand rows of clocks.
     */
    private OpenIncidents openIncidents(Instant now) {
        Incidents.Open open = incidents.open(SHOWN, COUNTED);
        return new OpenIncidents(open.countedUpTo(), open.countedUpTo().values().stream().mapToLong(Long::longValue).sum(),
                open.newest().stream().map(incident -> IncidentRow.of(incident, now)).toList());
    }
}
