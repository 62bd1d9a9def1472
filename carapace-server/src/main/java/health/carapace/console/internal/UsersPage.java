package health.carapace.console.internal;

import health.carapace.access.Caller;
import health.carapace.access.Permissions;
import health.carapace.access.RoleCatalog;
import health.carapace.console.ConsoleApp;
import health.carapace.signin.Users;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;

/**
 * Users and roles ({@code manage:users}): the accounts (roles, whether a password and TOTP are
 * enrolled, disabled), the roles of the policy directory with their constraints in words; create an
 * account (its one-time enrolment link shown once, as the CLI prints it), change its roles, disable
 * it, end its sessions. Each through {@link Users}, audited as done by the signed-in administrator.
 */
@Controller
class UsersPage {

    private static final String PAGE = ConsoleApp.PATH + "/users";
    static final Map<String, String> DONE = Map.of(
            "roles", "Roles changed; they apply from the person's next request.",
            "disabled", "Account disabled; its sessions are ended.",
            "revoked", "Sessions ended; the person must sign in again.");

    /** A role as the page shows it: its permissions and its constraints in words. */
    public record RoleView(String name, List<String> permissions, String constraints) {}

    private final ConsoleAccess access;
    private final Users users;
    private final RoleCatalog roles;

    UsersPage(ConsoleAccess access, Users users, RoleCatalog roles) {
        this.access = access;
        this.users = users;
        this.roles = roles;
    }

    @GetMapping(PAGE)
    String show(HttpServletRequest request, Model model) {
        access.require(request, Permissions.MANAGE_USERS, PAGE);
        String done = new Fields(request, Set.of("done"), "done names a finished action").text("done");
        model.addAttribute("notice", done == null ? null : DONE.get(done));
        return page(model);
    }

    @PostMapping(PAGE)
    String create(HttpServletRequest request, Model model) {
        String actor = access.require(request, Permissions.MANAGE_USERS, PAGE).principal();
        Fields fields = new Fields(request, Set.of("userName", "roles", "practitionerId"),
                "a user name is letters, digits and . _ @ - (2 to 64), roles are roles of the policy directory");
        String name = fields.text("userName");
        if (name == null || !Caller.USER_NAME.matcher(name).matches()) {
            throw fields.malformed();
        }
        Users.Enrolment enrolment = refusedAsPage(() -> users.create(name, roleSet(request, fields),
                fields.text("practitionerId"), actor));
        model.addAttribute("enrolment", enrolment);
        model.addAttribute("notice", "Account created. Give the person the enrolment link below; it works once.");
        return page(model);
    }

    @PostMapping(PAGE + "/{name}/roles")
    String setRoles(@PathVariable("name") String name, HttpServletRequest request) {
        String actor = access.require(request, Permissions.MANAGE_USERS, PAGE + "/" + ConsolePaths.safeName(name) + "/roles")
                .principal();
        Fields fields = new Fields(request, Set.of("roles"), "roles are roles of the policy directory");
        String user = existing(name);
        refusedAsPage(() -> {
            users.setRoles(user, roleSet(request, fields), actor);
            return null;
        });
        return "redirect:" + PAGE + "?done=roles";
    }

    @PostMapping(PAGE + "/{name}/disable")
    String disable(@PathVariable("name") String name, HttpServletRequest request) {
        String actor = access.require(request, Permissions.MANAGE_USERS, PAGE + "/" + ConsolePaths.safeName(name) + "/disable")
                .principal();
        new Fields(request, Set.of(), "disabling takes no fields");
        users.disable(existing(name), actor);
        return "redirect:" + PAGE + "?done=disabled";
    }

    @PostMapping(PAGE + "/{name}/revoke-sessions")
    String revokeSessions(@PathVariable("name") String name, HttpServletRequest request) {
        String actor = access.require(request, Permissions.MANAGE_USERS,
                PAGE + "/" + ConsolePaths.safeName(name) + "/revoke-sessions").principal();
        new Fields(request, Set.of(), "ending sessions takes no fields");
        users.revokeSessions(existing(name), actor);
        return "redirect:" + PAGE + "?done=revoked";
    }

    private String page(Model model) {
        model.addAttribute("users", users.list());
        model.addAttribute("roles", roles.roles().stream().map(role -> new RoleView(role.name(),
                role.permissions().stream().sorted().toList(), constraints(role))).toList());
        model.addAttribute("title", "Users and roles");
        return "console/users";
    }

    /** A role's constraints in words (the policy file holds the exact window and ranges). */
    static String constraints(RoleCatalog.RoleSummary role) {
        if (role.unconstrained()) {
            return "at any time, from any address (an access review lists it)";
        }
        String when = role.hasTimeWindow() ? "only within its time window" : "at any time";
        String where = role.hasIpRange() ? "only from its address ranges" : "from any address";
        return when + ", " + where + (role.breakGlassOutsideIpRange() ? "; break-glass allowed from elsewhere" : "");
    }

    private String existing(String name) {
        if (name == null || !Caller.USER_NAME.matcher(name).matches()) {
            throw new ConsoleRefusal(404, "There is no such account.");
        }
        return users.list().stream().map(Users.Summary::userName).filter(name::equalsIgnoreCase).findFirst()
                .orElseThrow(() -> new ConsoleRefusal(404, "There is no such account."));
    }

    private static Set<String> roleSet(HttpServletRequest request, Fields fields) {
        String[] values = request.getParameterValues("roles");
        if (values == null || values.length == 0 || values.length > 32
                || Arrays.stream(values).anyMatch(role -> !Users.ROLE_NAME.matcher(role).matches())) {
            throw fields.malformed();
        }
        return new LinkedHashSet<>(Arrays.asList(values));
    }

    /** The account service's refusals name the problem in its own words (never the value sent). */
    private static <T> T refusedAsPage(java.util.function.Supplier<T> action) {
        try {
            return action.get();
        } catch (Users.Refused refused) {
            throw new ConsoleRefusal(400, refused.getMessage());
        }
    }
}
