package health.carapace.console.internal;

import health.carapace.access.Permissions;
import health.carapace.console.ConsoleApp;
import health.carapace.incident.Breach;
import health.carapace.incident.Containment;
import health.carapace.incident.Evidence;
import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Incidents;
import health.carapace.incident.RiskAssessment;
import health.carapace.incident.Severity;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;

/**
 * Incidents: the list ({@code view:incidents}), one incident with its clocks and timeline, and
 * every response action of the admin API and the CLI ({@code manage:incidents}): acknowledge,
 * contain, the four-factor risk assessment, the breach determination (which starts the
 * notification clocks), the evidence bundle, close. Each action calls the service the API calls,
 * with the signed-in person as the actor, so it is audited and stamped on the timeline exactly
 * as the API's is.
 */
@Controller
class IncidentPages {

    private static final String LIST = ConsoleApp.PATH + "/incidents";
    private static final Pattern ROLE = Pattern.compile("[a-z][a-z0-9-]{0,62}");
    private static final Pattern POSITION = Pattern.compile("(\\d{1,17})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
    /** Incidents a page lists; older ones are a link away (a list of thousands is neither read nor cheap to render). */
    static final int PAGE = 50;
    private static final Set<String> RESOLUTIONS = Set.of("resolved", "false-positive", "duplicate", "drill");
    /** What a finished action says on the page after the redirect; the page shows only these texts. */
    static final Map<String, String> DONE = Map.of(
            "acknowledged", "Incident acknowledged.",
            "contained", "Containment applied.",
            "risk", "Risk assessment recorded.",
            "breach", "Breach determination recorded; the notification clocks are running.",
            "closed", "Incident closed.");

    /** The evidence API's headers (incident module's {@code EvidenceEndpoint}), named the same here. */
    static final String CUSTODY_HEADER = "X-Evidence-Custody";
    static final String SHA256_HEADER = "X-Evidence-SHA256";
    static final String MANIFEST_SHA256_HEADER = "X-Evidence-Manifest-SHA256";
    static final String SIGNING_KEY_HEADER = "X-Evidence-Signing-Key";

    private final ConsoleAccess access;
    private final Incidents incidents;
    private final Containment containment;
    private final Evidence evidence;
    private final Path evidenceScratch;

    /** @param evidenceScratch where bundles wait between being made and sent: the API's scratch directory */
    IncidentPages(ConsoleAccess access, Incidents incidents, Containment containment, Evidence evidence,
            @Value("${carapace.incident.evidence.scratch-dir:}") String evidenceScratch) {
        this.access = access;
        this.incidents = incidents;
        this.containment = containment;
        this.evidence = evidence;
        this.evidenceScratch = evidenceScratch == null || evidenceScratch.isBlank()
                ? Path.of(System.getProperty("java.io.tmpdir")) : Path.of(evidenceScratch);
    }

    @GetMapping(LIST)
    String list(HttpServletRequest request, Model model) {
        access.require(request, Permissions.VIEW_INCIDENTS, LIST);
        Fields fields = new Fields(request, Set.of("state", "severity", "drill", "after"),
                "state is open, acknowledged, contained, resolved or closed; severity low, medium, high or critical; "
                        + "drill true or false; after is the position a page link gives");
        IncidentState state = fields.parsed("state", IncidentState::of);
        Severity severity = fields.parsed("severity", Severity::of);
        Boolean drill = fields.parsed("drill", value -> switch (value) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> null;
        });
        Incidents.Position after = fields.parsed("after", IncidentPages::position);
        List<Incident> page = new ArrayList<>(
                incidents.page(new Incidents.Filter(state, severity, null, null, null, drill, PAGE + 1), after));
        String next = null;
        if (page.size() > PAGE) {
            page = page.subList(0, PAGE);
            Incident last = page.get(PAGE - 1);
            Map<String, String> query = new LinkedHashMap<>();
            if (state != null) {
                query.put("state", state.code());
            }
            if (severity != null) {
                query.put("severity", severity.code());
            }
            if (drill != null) {
                query.put("drill", drill.toString());
            }
            query.put("after", ChronoUnit.MICROS.between(Instant.EPOCH, last.detectedAt()) + "_" + last.id());
            next = LIST + "?" + query.entrySet().stream().map(entry -> entry.getKey() + "=" + entry.getValue())
                    .collect(Collectors.joining("&"));
        }
        model.addAttribute("incidents", page);
        model.addAttribute("next", next);
        model.addAttribute("continued", after != null);
        model.addAttribute("state", state == null ? "" : state.code());
        model.addAttribute("severity", severity == null ? "" : severity.code());
        model.addAttribute("states", Arrays.stream(IncidentState.values()).map(IncidentState::code).toList());
        model.addAttribute("severities", Arrays.stream(Severity.values()).map(Severity::code).toList());
        model.addAttribute("title", "Incidents");
        return "console/incidents";
    }

    /** A page link's position ({@code <microseconds since the epoch>_<incident id>}); null when malformed. */
    static Incidents.Position position(String value) {
        Matcher matcher = POSITION.matcher(value);
        if (!matcher.matches()) {
            return null;
        }
        try {
            return new Incidents.Position(Instant.EPOCH.plus(Long.parseLong(matcher.group(1)), ChronoUnit.MICROS),
                    UUID.fromString(matcher.group(2)));
        } catch (IllegalArgumentException | java.time.DateTimeException | ArithmeticException outOfRange) {
            return null;
        }
    }

    @GetMapping(LIST + "/{id}")
    String show(@PathVariable("id") String id, HttpServletRequest request, Model model) {
        // the permission first, so that a malformed id from someone without it is a refusal, audited
        access.require(request, Permissions.VIEW_INCIDENTS, ConsolePaths.audited(request));
        UUID incidentId = Fields.id(id);
        Fields fields = new Fields(request, Set.of("done"), "done names a finished action");
        String done = fields.text("done");
        Incident incident = incidents.find(incidentId)
                .orElseThrow(() -> new ConsoleRefusal(404, "There is no incident with that id."));
        model.addAttribute("incident", incident);
        model.addAttribute("notice", done == null ? null : DONE.get(done));
        model.addAttribute("custody", access.grants(request, Permissions.MANAGE_INCIDENTS)
                ? evidence.custody(incidentId) : List.of());
        model.addAttribute("phiInvolved", RiskAssessment.PhiInvolved.values());
        model.addAttribute("recipients", RiskAssessment.Recipient.values());
        model.addAttribute("acquisitions", RiskAssessment.Acquisition.values());
        model.addAttribute("mitigations", RiskAssessment.Mitigation.values());
        model.addAttribute("conclusions", RiskAssessment.Conclusion.values());
        model.addAttribute("resolutions", RESOLUTIONS.stream().sorted().toList());
        model.addAttribute("title", "Incident " + incident.detector());
        return "console/incident";
    }

    @PostMapping(LIST + "/{id}/acknowledge")
    String acknowledge(@PathVariable("id") String id, HttpServletRequest request) {
        UUID incident = manage(id, request);
        new Fields(request, Set.of(), "acknowledging takes no fields");
        incidents.acknowledge(incident, ConsoleAccess.caller(request).principal());
        return done(incident, "acknowledged");
    }

    @PostMapping(LIST + "/{id}/contain")
    String contain(@PathVariable("id") String id, HttpServletRequest request) {
        UUID incident = manage(id, request);
        Fields fields = new Fields(request, Set.of("revokeSessions", "disable", "block", "unblock", "lockdown", "allow",
                "suspendRoles", "liftRoles"), "the checkboxes are on or absent; addresses are CIDR ranges or addresses, "
                        + "one per line; lockdown is on, off or absent; names and roles one per line");
        String lockdownField = fields.text("lockdown");
        Boolean lockdown;
        if (lockdownField == null || "leave".equals(lockdownField)) {
            lockdown = null;
        } else if ("on".equals(lockdownField) || "off".equals(lockdownField)) {
            lockdown = "on".equals(lockdownField);
        } else {
            throw fields.malformed();
        }
        List<String> suspend = lines(fields, "suspendRoles");
        List<String> lift = lines(fields, "liftRoles");
        if (!suspend.stream().allMatch(role -> ROLE.matcher(role).matches())
                || !lift.stream().allMatch(role -> ROLE.matcher(role).matches())) {
            throw fields.malformed();
        }
        Containment.Actions actions = new Containment.Actions(fields.checked("revokeSessions"), fields.checked("disable"),
                lines(fields, "block"), lines(fields, "unblock"), lockdown, lines(fields, "allow"), suspend, lift);
        containment.contain(incident, actions, ConsoleAccess.caller(request).principal());
        return done(incident, "contained");
    }

    @PostMapping(LIST + "/{id}/risk")
    String assessRisk(@PathVariable("id") String id, HttpServletRequest request) {
        UUID incident = manage(id, request);
        Fields fields = new Fields(request, Set.of("phiInvolved", "recipient", "acquisition", "mitigation", "conclusion"),
                "each of the four factors and the conclusion is one of the listed answers");
        RiskAssessment assessment;
        try {
            assessment = new RiskAssessment(
                    fields.parsed("phiInvolved", RiskAssessment.PhiInvolved::valueOf),
                    fields.parsed("recipient", RiskAssessment.Recipient::valueOf),
                    fields.parsed("acquisition", RiskAssessment.Acquisition::valueOf),
                    fields.parsed("mitigation", RiskAssessment.Mitigation::valueOf),
                    fields.parsed("conclusion", RiskAssessment.Conclusion::valueOf));
        } catch (IllegalArgumentException missing) {
            throw fields.malformed();
        }
        incidents.assessRisk(incident, assessment, ConsoleAccess.caller(request).principal());
        return done(incident, "risk");
    }

    @PostMapping(LIST + "/{id}/breach")
    String recordBreach(@PathVariable("id") String id, HttpServletRequest request) {
        UUID incident = manage(id, request);
        Fields fields = new Fields(request, Set.of("discoveredOn", "affected", "residentsByState"),
                "discoveredOn is a date (YYYY-MM-DD), affected a count of at least 1, residents by State one per line as "
                        + "a two-letter code and a count (CA 12)");
        Map<String, Integer> residents = new LinkedHashMap<>();
        for (String line : lines(fields, "residentsByState")) {
            String[] parts = line.split("\\s+");
            if (parts.length != 2 || !parts[0].matches("[A-Z]{2}") || !parts[1].matches("\\d{1,10}")) {
                throw fields.malformed();
            }
            residents.put(parts[0], Integer.valueOf(parts[1]));
        }
        Breach breach;
        try {
            breach = new Breach(fields.parsed("discoveredOn", LocalDate::parse),
                    fields.parsed("affected", value -> value.matches("\\d{1,10}") ? Integer.valueOf(value) : null),
                    residents);
        } catch (IllegalArgumentException | NullPointerException invalid) {
            throw fields.malformed();
        }
        incidents.recordBreach(incident, breach, ConsoleAccess.caller(request).principal());
        return done(incident, "breach");
    }

    @PostMapping(LIST + "/{id}/close")
    String close(@PathVariable("id") String id, HttpServletRequest request) {
        UUID incident = manage(id, request);
        Fields fields = new Fields(request, Set.of("state", "resolution"),
                "state is resolved or closed; resolution one of " + RESOLUTIONS.stream().sorted().toList());
        IncidentState target = fields.parsed("state", value -> switch (value) {
            case "resolved" -> IncidentState.RESOLVED;
            case "closed" -> IncidentState.CLOSED;
            default -> null;
        });
        String resolution = fields.text("resolution");
        if (target == null || resolution == null || !RESOLUTIONS.contains(resolution)) {
            throw fields.malformed();
        }
        incidents.close(incident, target, resolution, ConsoleAccess.caller(request).principal());
        return done(incident, "closed");
    }

    /**
     * The evidence bundle, as the API makes it (sealed to the offline evidence key, custody
     * recorded and audited), handed to the browser as a download with its API twin's headers: the
     * custody record's id, the bundle's and the manifest's SHA-256 and the signing key's id, which
     * the officer writes into the chain of custody. Made into a private scratch file (mode 0600,
     * removed once sent) and streamed from there, as the API does, never held on the heap.
     */
    @PostMapping(LIST + "/{id}/evidence")
    void exportEvidence(@PathVariable("id") String id, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        UUID incident = manage(id, request);
        new Fields(request, Set.of(), "the evidence export takes no fields");
        Files.createDirectories(evidenceScratch);
        Path file = Files.createTempFile(evidenceScratch, "bundle-", ".evidence",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Evidence.Made made;
            try (OutputStream out = Files.newOutputStream(file)) {
                made = evidence.write(incident, false, out, ConsoleAccess.caller(request).principal());
            }
            Evidence.Custody custody = made.custody();
            ConsoleHeaders.apply(response);
            response.setStatus(200);
            response.setContentType("application/octet-stream");
            response.setHeader("Content-Disposition",
                    "attachment; filename=\"evidence-" + incident + "-" + custody.id() + ".bundle\"");
            response.setHeader(CUSTODY_HEADER, custody.id().toString());
            response.setHeader(SHA256_HEADER, custody.bundleSha256());
            response.setHeader(MANIFEST_SHA256_HEADER, custody.manifestSha256());
            response.setHeader(SIGNING_KEY_HEADER, custody.signingKeyId());
            response.setContentLengthLong(custody.bundleBytes());
            try (OutputStream body = response.getOutputStream()) {
                Files.copy(file, body);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** The permission first (a refusal is audited whatever the id looks like), then the id. */
    private UUID manage(String id, HttpServletRequest request) {
        access.require(request, Permissions.MANAGE_INCIDENTS, ConsolePaths.audited(request));
        return Fields.id(id);
    }

    private static List<String> lines(Fields fields, String name) {
        String text = fields.text(name);
        if (text == null) {
            return List.of();
        }
        List<String> lines = text.lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
        if (lines.size() > 50) {
            throw fields.malformed();
        }
        return lines;
    }

    private static String done(UUID incident, String what) {
        return "redirect:" + LIST + "/" + incident + "?done=" + what;
    }
}
