package health.carapace.console.internal;

import health.carapace.access.Permissions;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditProofs;
import health.carapace.audit.AuditQueries;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.Disclosures;
import health.carapace.console.ConsoleApp;
import health.carapace.platform.logging.RequestIds;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * The audit explorer ({@code view:audit}): events by patient, principal, dates, action and
 * outcome, 25 a page, newest first, paged by keyset ({@link AuditQueries#page}); a search's query
 * is shown decrypted (only holders of {@code view:audit} reach this page at all). The accounting
 * of disclosures for a patient, on the page and as CSV. Looking at the trail is itself audited:
 * a search as {@code searched} with its criteria encrypted under the audit key (as the FHIR
 * AuditEvent search is), the accounting as {@code exported} (as the API's is).
 */
@Controller
class AuditPages {

    private static final String EXPLORER = ConsoleApp.PATH + "/audit";
    private static final String DISCLOSURES = EXPLORER + "/disclosures";
    /**
     * Disclosures on the page, the most recent first; the CSV holds them all. A patient in long care
     * has thousands, and a page of thousands of rows took seconds to render under load (seen in the
     * speed measurement, where the people's own visits grew one patient's accounting; 100 rows still
     * took 375 ms at p99 there, and counting them all as well 391 ms with 25 rows) and nobody reads it.
     * The explorer by patient pages through every event.
     */
    static final int DISCLOSURES_SHOWN = 25;
    private static final int PAGE = 25;
    private static final Pattern PRINCIPAL = Pattern.compile("[A-Za-z0-9:._@-]{1,100}");
    private static final Pattern POSITION = Pattern.compile("\\d{1,19}\\.\\d{1,19}");
    private static final Set<String> FILTERS = Set.of("patient", "principal", "from", "to", "action", "outcome", "after");
    private static final String EXPECTED = "patient is a Patient id, principal a user name or client id, from and to "
            + "dates (YYYY-MM-DD, UTC), action one of the listed actions, outcome success or failure";

    /** The filters of a search, as validated; also what the page puts back into its form. */
    public record Search(String patient, String principal, LocalDate from, LocalDate to, String action, String outcome) {

        String query() {
            Map<String, String> values = values();
            return values.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("&"));
        }

        public Map<String, String> values() {
            Map<String, String> values = new LinkedHashMap<>();
            if (patient != null) {
                values.put("patient", patient.substring("Patient/".length()));
            }
            if (principal != null) {
                values.put("principal", principal);
            }
            if (from != null) {
                values.put("from", from.toString());
            }
            if (to != null) {
                values.put("to", to.toString());
            }
            if (action != null) {
                values.put("action", action);
            }
            if (outcome != null) {
                values.put("outcome", outcome);
            }
            return values;
        }
    }

    private final ConsoleAccess access;
    private final AuditQueries queries;
    private final AuditProofs proofs;
    private final AuditTrail audit;
    private final Clock clock;
    private final ProofMaking proofMaking;

    AuditPages(ConsoleAccess access, AuditQueries queries, AuditProofs proofs, AuditTrail audit, Clock clock) {
        this.access = access;
        this.queries = queries;
        this.proofs = proofs;
        this.audit = audit;
        this.clock = clock;
        this.proofMaking = new ProofMaking(clock);
    }

    /**
     * The inclusion proof of one event under the latest signed tree head, made on request (it reads
     * leaf hashes: bounded per node and per person, {@link ProofMaking}) and checked before it is
     * shown; audited as {@code exported} when there is one to show.
     */
    @GetMapping(EXPLORER + "/events/{id}/proof")
    String proof(@org.springframework.web.bind.annotation.PathVariable("id") String id, HttpServletRequest request,
            Model model) {
        // the permission first (a malformed id from someone without it is a refusal, audited), then the id
        String principal = access.require(request, Permissions.VIEW_AUDIT, ConsolePaths.audited(request)).principal();
        UUID event = Fields.id(id);
        String resource = EXPLORER + "/events/" + event + "/proof";
        new Fields(request, Set.of(), "the proof takes no fields");
        AuditProofs.Inclusion inclusion = proofMaking.make(principal, () -> proofs.inclusion(event))
                .orElseThrow(() -> new ConsoleRefusal(404,
                        "There is no such event, or it is not yet under a signed tree head; try again in a few seconds."));
        // audited once there is a proof to show, before it is shown (nothing is exported when there is none)
        audit.record(List.of(AuditEvent.now(principal, AuditAction.EXPORTED, resource, AuditContext.of(request), true,
                null, null, RequestIds.current())));
        model.addAttribute("proof", inclusion);
        model.addAttribute("title", "Inclusion proof");
        return "console/proof";
    }

    @GetMapping(EXPLORER)
    String explore(HttpServletRequest request, Model model) {
        String principal = access.require(request, Permissions.VIEW_AUDIT, EXPLORER).principal();
        Fields fields = new Fields(request, FILTERS, EXPECTED);
        Search search = new Search(
                fields.parsed("patient", Disclosures::patientReference),
                fields.parsed("principal", value -> PRINCIPAL.matcher(value).matches() ? value : null),
                fields.parsed("from", LocalDate::parse),
                fields.parsed("to", LocalDate::parse),
                fields.parsed("action", value -> Arrays.stream(AuditAction.values()).map(AuditAction::code)
                        .filter(value::equals).findFirst().orElse(null)),
                fields.parsed("outcome", value -> Set.of("success", "failure").contains(value) ? value : null));
        String after = fields.parsed("after", value -> POSITION.matcher(value).matches() ? value : null);
        boolean searched = !search.values().isEmpty() || after != null;
        model.addAttribute("search", search);
        model.addAttribute("queries", new ReadableQueries());
        model.addAttribute("actions", Arrays.stream(AuditAction.values()).map(AuditAction::code).toList());
        model.addAttribute("title", "Audit explorer");
        if (searched) {
            AuditQueries.Page page;
            try {
                page = queries.page(new AuditQueries.Criteria(search.patient(), search.principal(),
                        search.from() == null ? null : search.from().atStartOfDay(ZoneOffset.UTC).toInstant(),
                        search.to() == null ? null : search.to().plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant(),
                        search.action() == null ? null : List.of(search.action()),
                        search.outcome() == null ? null : "success".equals(search.outcome()), PAGE), after);
            } catch (IllegalArgumentException notAPosition) {
                throw fields.malformed();
            }
            UUID eventId = UUID.randomUUID();
            List<AuditEvent> reading = new java.util.ArrayList<>();
            reading.add(new AuditEvent(eventId, Instant.now(), principal, AuditAction.SEARCHED, EXPLORER,
                    AuditContext.of(request), true, search.patient(), null, RequestIds.current(), false,
                    audit.encryptQuery(eventId, search.query() + (after == null ? "" : "&after=" + after))));
            // A shown query is read in clear, and it may name another patient than the filter's (a
            // search by name or birth date): each one shown is audited as exported, naming its own
            // event and that event's patient, in the same commit as the search, before the page leaves.
            for (AuditQueries.StoredEvent shown : page.events()) {
                if (shown.query() != null) {
                    reading.add(AuditEvent.now(principal, AuditAction.EXPORTED, shownQuery(shown.id()),
                            AuditContext.of(request), true, shown.patient(), null, RequestIds.current()));
                }
            }
            audit.record(reading);
            model.addAttribute("events", page.events());
            model.addAttribute("next", page.next() == null ? null : link(EXPLORER, search.values(), page.next()));
        }
        // htmx asks for the next page only: its rows and the link after them
        return after != null && request.getHeader("HX-Request") != null ? "console/audit :: page" : "console/audit";
    }

    @GetMapping(DISCLOSURES)
    String disclosures(HttpServletRequest request, Model model) {
        String principal = access.require(request, Permissions.VIEW_AUDIT, DISCLOSURES).principal();
        Fields fields = new Fields(request, Set.of("patient"), "patient is a Patient id");
        String patient = fields.parsed("patient", Disclosures::patientReference);
        model.addAttribute("title", "Accounting of disclosures");
        model.addAttribute("patient", patient == null ? "" : patient.substring("Patient/".length()));
        if (patient != null) {
            recordExport(request, principal, patient, DISCLOSURES);
            model.addAttribute("disclosures",
                    queries.recentDisclosures(patient, Disclosures.windowStart(clock.instant()), DISCLOSURES_SHOWN));
            model.addAttribute("limit", DISCLOSURES_SHOWN);
            model.addAttribute("csv", link(DISCLOSURES + ".csv", Map.of("patient", patient.substring("Patient/".length())),
                    null));
        }
        return "console/disclosures";
    }

    @GetMapping(DISCLOSURES + ".csv")
    void disclosuresCsv(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String principal = access.require(request, Permissions.VIEW_AUDIT, DISCLOSURES + ".csv").principal();
        Fields fields = new Fields(request, Set.of("patient"), "patient is a Patient id");
        String patient = fields.parsed("patient", Disclosures::patientReference);
        if (patient == null) {
            throw fields.malformed();
        }
        recordExport(request, principal, patient, DISCLOSURES + ".csv");
        byte[] csv = Disclosures.csv(queries.disclosures(patient, Disclosures.windowStart(clock.instant())))
                .getBytes(StandardCharsets.UTF_8);
        ConsoleHeaders.apply(response);
        response.setStatus(200);
        response.setContentType("text/csv;charset=UTF-8");
        response.setHeader("Content-Disposition", "attachment; filename=\"disclosures-"
                + patient.substring("Patient/".length()) + ".csv\"");
        response.setContentLength(csv.length);
        response.getOutputStream().write(csv);
    }

    /** The accounting is a disclosure of audit data: audited as {@code exported} before it is read, as the API does. */
    private void recordExport(HttpServletRequest request, String principal, String patient, String resource) {
        audit.record(List.of(AuditEvent.now(principal, AuditAction.EXPORTED, resource, AuditContext.of(request), true,
                patient, null, RequestIds.current())));
    }

    /** The name under which showing one event's decrypted query is audited. */
    static String shownQuery(UUID event) {
        return EXPLORER + "/events/" + event + "/query";
    }

    private static String link(String path, Map<String, String> values, String after) {
        UriComponentsBuilder uri = UriComponentsBuilder.fromPath(path);
        values.forEach(uri::queryParam);
        if (after != null) {
            uri.queryParam("after", after);
        }
        return uri.encode().build().toUriString();
    }
}
