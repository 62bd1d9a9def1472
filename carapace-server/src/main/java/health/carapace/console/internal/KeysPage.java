package health.carapace.console.internal;

import health.carapace.access.Permissions;
import health.carapace.audit.AuditContext;
import health.carapace.console.ConsoleApp;
import health.carapace.crypto.KeyRotation;
import health.carapace.disposal.Shredding;
import health.carapace.platform.logging.RequestIds;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;

/**
 * Keys ({@code manage:keys}): key versions with their ages and use, rotation jobs with their
 * progress, and crypto-shredding under dual control: a request by one administrator, approved (or
 * refused) by another. The dual-control rule, the audit events and the refusals' audit are the
 * disposal service's own ({@link Shredding}), as for {@code /admin/keys/shredding}.
 */
@Controller
class KeysPage {

    private static final String PAGE = ConsoleApp.PATH + "/keys";
    static final java.util.Map<String, String> DONE = java.util.Map.of(
            "requested", "Shredding requested. Another administrator must approve it.",
            "approved", "Shredding approved; the patient's data keys are destroyed.",
            "refused", "Shredding request refused.");

    private final ConsoleAccess access;
    private final KeyRotation keys;
    private final Shredding shredding;

    KeysPage(ConsoleAccess access, KeyRotation keys, Shredding shredding) {
        this.access = access;
        this.keys = keys;
        this.shredding = shredding;
    }

    @GetMapping(PAGE)
    String show(HttpServletRequest request, Model model) {
        access.require(request, Permissions.MANAGE_KEYS, PAGE);
        String done = new Fields(request, Set.of("done"), "done names a finished action").text("done");
        model.addAttribute("notice", done == null ? null : DONE.get(done));
        model.addAttribute("status", keys.status());
        model.addAttribute("requests", shredding.list());
        model.addAttribute("title", "Keys");
        return "console/keys";
    }

    @PostMapping(PAGE + "/shredding")
    String requestShredding(HttpServletRequest request) {
        Shredding.Origin origin = origin(request, PAGE + "/shredding");
        Fields fields = new Fields(request, Set.of("patient", "reason"),
                "patient is a Patient id, reason a retention reference such as RET-2019-0042");
        String patient = fields.text("patient");
        String reason = fields.text("reason");
        act(origin, PAGE + "/shredding", () -> shredding.request(origin, patient, reason));
        return "redirect:" + PAGE + "?done=requested";
    }

    @PostMapping(PAGE + "/shredding/{id}/approve")
    String approve(@PathVariable("id") String id, HttpServletRequest request) {
        // the permission first (a malformed id from someone without it is a refusal, audited), then the id
        Shredding.Origin origin = origin(request, ConsolePaths.audited(request));
        UUID requestId = Fields.id(id);
        String path = PAGE + "/shredding/" + requestId + "/approve";
        new Fields(request, Set.of(), "approving takes no fields");
        act(origin, path, () -> shredding.approve(origin, requestId));
        return "redirect:" + PAGE + "?done=approved";
    }

    @PostMapping(PAGE + "/shredding/{id}/refuse")
    String refuse(@PathVariable("id") String id, HttpServletRequest request) {
        // the permission first (a malformed id from someone without it is a refusal, audited), then the id
        Shredding.Origin origin = origin(request, ConsolePaths.audited(request));
        UUID requestId = Fields.id(id);
        String path = PAGE + "/shredding/" + requestId + "/refuse";
        new Fields(request, Set.of(), "refusing takes no fields");
        act(origin, path, () -> shredding.refuse(origin, requestId));
        return "redirect:" + PAGE + "?done=refused";
    }

    private Shredding.Origin origin(HttpServletRequest request, String path) {
        String admin = access.require(request, Permissions.MANAGE_KEYS, path).principal();
        return new Shredding.Origin(admin, AuditContext.of(request), RequestIds.current());
    }

    /** The service's refusals, audited as the API audits them (dual control, conflicts), shown as the error page. */
    private void act(Shredding.Origin origin, String path, Supplier<Shredding.Request> action) {
        try {
            action.get();
        } catch (Shredding.Refused refused) {
            if (refused.status() == 403 || refused.status() == 409) {
                shredding.auditRefusal(origin, path, refused);
            }
            throw new ConsoleRefusal(refused.status(), refused.getMessage());
        }
    }
}
