package health.carapace.console.internal;

import health.carapace.access.BreakGlass;
import health.carapace.access.Caller;
import health.carapace.access.Permissions;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.console.ConsoleApp;
import health.carapace.signin.AccessReview;
import health.carapace.signin.AccessReviewSheet;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;

/**
 * The access review ({@code view:audit}, as {@code GET /admin/access-review}): granted versus used
 * permissions per account, accounts without MFA, dormant accounts, disabled accounts still holding a
 * session, roles without constraints, and the break-glass grants with their review. Read through
 * {@link AccessReviewSheet}, the service the admin route calls, so each reading is audited as
 * {@code exported} by the viewer before anything is read. Recording a grant's review needs
 * {@code manage:incidents} as well (as {@code POST /admin/access-review/break-glass/{id}}); the
 * service refuses one's own grant (audited), an open grant and a second review.
 *
 * <p>The page holds break-glass reasons, free text the holder typed that may name a patient's
 * condition: shown (the reviewer judges the grant by it), escaped, never cached (every console
 * page is {@code no-store}), never logged.
 */
@Controller
class AccessReviewPage {

    private static final Logger log = LoggerFactory.getLogger(AccessReviewPage.class);
    static final String PAGE = ConsoleApp.PATH + "/access-review";
    /** The most principals one table shows; the JSON route returns every one. */
    static final int MAX_ROWS = 500;
    private static final java.util.regex.Pattern GRANT_ID =
            java.util.regex.Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final java.util.regex.Pattern DAYS = java.util.regex.Pattern.compile("[1-9][0-9]{0,3}");
    private static final Map<String, String> DONE = Map.of(
            "appropriate", "Review recorded: the emergency access was appropriate.",
            "inappropriate", "Review recorded: the emergency access was inappropriate. Consider opening an incident.");

    /** The principals' table of one kind, at most {@link #MAX_ROWS}, and how many were left out. */
    public record Principals(String kind, List<AccessReview.Principal> shown, int notShown) {}

    private final ConsoleAccess access;
    private final AccessReviewSheet sheets;

    AccessReviewPage(ConsoleAccess access, AccessReviewSheet sheets) {
        this.access = access;
        this.sheets = sheets;
    }

    @GetMapping(PAGE)
    String show(HttpServletRequest request, Model model) {
        Caller viewer = access.require(request, Permissions.VIEW_AUDIT, PAGE);
        Fields fields = new Fields(request, Set.of("days", "kind", "done"),
                "days is a whole number from 1 to " + AccessReviewSheet.MAX_DAYS + ", kind is user or service-client");
        Integer days = fields.parsed("days", value -> DAYS.matcher(value).matches()
                && Integer.parseInt(value) <= AccessReviewSheet.MAX_DAYS ? Integer.valueOf(value) : null);
        String kind = fields.parsed("kind", value -> Set.of("user", "service-client").contains(value) ? value : null);
        String done = fields.text("done");
        int window = days == null ? AccessReviewSheet.DEFAULT_DAYS : days;
        AccessReviewSheet.Sheet sheet;
        try {
            sheet = sheets.read(viewer.principal(), window, AuditContext.of(request));
        } catch (AuditUnavailableException e) {
            log.warn("An access review could not be audited; it was not read", e);
            throw new ConsoleRefusal(503, "The audit trail is unavailable, so the review was not read. Try again later.");
        }
        String shownKind = kind == null ? "user" : kind;
        List<AccessReview.Principal> ofKind = sheet.accounts().principals().stream()
                .filter(principal -> principal.kind().equals(shownKind)).toList();
        model.addAttribute("sheet", sheet);
        model.addAttribute("report", sheet.accounts());
        model.addAttribute("principals", new Principals(shownKind, ofKind.subList(0, Math.min(MAX_ROWS, ofKind.size())),
                Math.max(0, ofKind.size() - MAX_ROWS)));
        model.addAttribute("days", window);
        model.addAttribute("mayReview", access.grants(request, Permissions.MANAGE_INCIDENTS));
        model.addAttribute("notice", done == null ? null : DONE.get(done));
        model.addAttribute("title", "Access review");
        return "console/access-review";
    }

    @PostMapping(PAGE + "/break-glass/{id}")
    String review(@PathVariable("id") String id, HttpServletRequest request) {
        // the permission first, so that even a malformed id is refused as a refusal (audited) to one without it
        String resource = PAGE + "/break-glass/" + (GRANT_ID.matcher(id).matches() ? id : "*");
        access.require(request, Permissions.VIEW_AUDIT, resource);
        Caller reviewer = access.require(request, Permissions.MANAGE_INCIDENTS, resource);
        UUID grant = Fields.id(id);
        BreakGlass.ReviewOutcome outcome = new Fields(request, Set.of("outcome"), "outcome is appropriate or inappropriate")
                .parsed("outcome", value -> BreakGlass.ReviewOutcome.ofLabel(value).orElse(null));
        if (outcome == null) {
            throw new ConsoleRefusal(400, "A field is malformed: outcome is appropriate or inappropriate.");
        }
        BreakGlass.Reviewing result;
        try {
            result = sheets.reviewEmergencyAccess(grant, reviewer.principal(), outcome, AuditContext.of(request));
        } catch (AuditUnavailableException e) {
            log.warn("A break-glass review could not be audited; nothing was recorded", e);
            throw new ConsoleRefusal(503, "The audit trail is unavailable, so nothing was recorded. Try again later.");
        }
        return switch (result) {
            case RECORDED -> "redirect:" + PAGE + "?done=" + outcome.label();
            case NO_SUCH_GRANT -> throw new ConsoleRefusal(404, "There is no such break-glass grant.");
            case OWN_GRANT -> throw new ConsoleRefusal(403, "Nobody reviews their own emergency access; another officer must.");
            case STILL_OPEN -> throw new ConsoleRefusal(409, "The grant is still open; review it once it has ended.");
            case ALREADY_REVIEWED -> throw new ConsoleRefusal(409, "The grant has been reviewed already; the first review stands.");
        };
    }
}
