package health.carapace.console.internal;

import health.carapace.access.Caller;
import health.carapace.access.Permissions;
import health.carapace.access.RoleCatalog;
import health.carapace.audit.AuditContext;
import health.carapace.console.ConsoleApp;
import health.carapace.signin.ServiceClients;
import health.carapace.signin.SmartApps;
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
 * enrolled, disabled), the roles of the policy directory with their constraints in words; change an
 * account's roles, disable it, end its sessions. Each through {@link Users}, audited as done by the
 * signed-in administrator. Service clients and sign-in apps are listed with their roles or scopes and
 * state, and disabled through the services the CLI and {@code /admin/apps} use ({@link ServiceClients},
 * {@link SmartApps}); there is no re-enabling (neither the API nor the CLI has it: a disabled client
 * is made again). Accounts are not created here: the one-time enrolment link would go to
 * the administrator who made the account, and one person could then hold two identities and satisfy
 * dual control (shredding approval, break-glass review) alone; they are created on the server's host
 * ({@code carapace admin create-user}). Nobody changes their own roles, and a role is granted only by
 * someone who holds every permission it grants.
 */
@Controller
class UsersPage {

    private static final String PAGE = ConsoleApp.PATH + "/users";
    static final Map<String, String> DONE = Map.of(
            "roles", "Roles changed; they apply from the person's next request.",
            "disabled", "Account disabled; its sessions are ended.",
            "revoked", "Sessions ended; the person must sign in again.",
            "client-disabled", "Service client disabled; its secret and its tokens no longer work.",
            "app-disabled", "App disabled; it gets no new token and the tokens it holds no longer work.");
    /**
     * Accounts a page, in name order, with the next page by the last name shown: a page costs the same
     * with ten accounts or ten thousand (issue #20's speed target; the users page rendered every account
     * with a role selector each, and each row's selector lists every role of the directory).
     */
    static final int ACCOUNTS = 10;
    /** The start of a user name to look for: the characters a user name may hold. */
    private static final java.util.regex.Pattern NAME_START = java.util.regex.Pattern.compile("[A-Za-z0-9._@-]{1,64}");
    /** Clients and apps listed on the page, newest first (the access review lists every client). */
    static final int MAX_CLIENTS = 100;
    /** Client ids as the directory makes them ({@code svc-}, {@code drill-}, {@code app-} and a UUID; built-in apps). */
    private static final java.util.regex.Pattern CLIENT_ID = java.util.regex.Pattern.compile("[a-z][a-z0-9-]{2,63}");

    /** A role as the page shows it: its permissions and its constraints in words. */
    public record RoleView(String name, List<String> permissions, String constraints) {}

    private final ConsoleAccess access;
    private final Users users;
    private final RoleCatalog roles;
    private final ServiceClients clients;
    private final SmartApps apps;

    UsersPage(ConsoleAccess access, Users users, RoleCatalog roles, ServiceClients clients, SmartApps apps) {
        this.access = access;
        this.users = users;
        this.roles = roles;
        this.clients = clients;
        this.apps = apps;
    }

    @GetMapping(PAGE)
    String show(HttpServletRequest request, Model model) {
        access.require(request, Permissions.MANAGE_USERS, PAGE);
        Fields fields = new Fields(request, Set.of("done", "clients", "name", "after"),
                "done names a finished action, clients is all, name is the start of a user name, after is the "
                        + "user name a page link gives");
        String done = fields.text("done");
        boolean allClients = fields.parsed("clients", value -> "all".equals(value) ? Boolean.TRUE : null) != null;
        String name = fields.parsed("name", value -> NAME_START.matcher(value).matches() ? value : null);
        String after = fields.parsed("after", value -> Caller.USER_NAME.matcher(value).matches() ? value : null);
        List<Users.Summary> accounts = new java.util.ArrayList<>(users.page(name, after, ACCOUNTS + 1));
        String next = null;
        if (accounts.size() > ACCOUNTS) {
            accounts = accounts.subList(0, ACCOUNTS);
            next = PAGE + "?" + (name == null ? "" : "name=" + name + "&") + "after="
                    + accounts.get(ACCOUNTS - 1).userName();
        }
        model.addAttribute("users", accounts);
        model.addAttribute("name", name == null ? "" : name);
        model.addAttribute("next", next);
        model.addAttribute("continued", after != null);
        model.addAttribute("notice", done == null ? null : DONE.get(done));
        model.addAttribute("allClients", allClients);
        model.addAttribute("clients", clients.list(allClients, MAX_CLIENTS));
        model.addAttribute("apps", apps.list(allClients, MAX_CLIENTS));
        model.addAttribute("consoleApp", ConsoleApp.CLIENT_ID);
        return page(model);
    }

    /**
     * Disables a service client through {@link ServiceClients#disable}, what incident containment
     * uses: its secret and every token it holds stop working at their next use, on every node.
     * Audited as the administrator's change of {@code /admin/clients/{id}}.
     */
    @PostMapping(PAGE + "/clients/{id}/disable")
    String disableClient(@PathVariable("id") String id, HttpServletRequest request) {
        String actor = access.require(request, Permissions.MANAGE_USERS, PAGE + "/clients/" + safeClientId(id) + "/disable")
                .principal();
        new Fields(request, Set.of(), "disabling takes no fields");
        ServiceClients.Summary client = clients.find(clientId(id))
                .orElseThrow(() -> new ConsoleRefusal(404, "There is no such service client."));
        if (!client.disabled()) {
            clients.disable(client.clientId(), actor, AuditContext.of(request));
        }
        return "redirect:" + PAGE + "?done=client-disabled";
    }

    /**
     * Disables a sign-in app (a SMART app or a plain one) through {@link SmartApps#disable}: no new
     * token for it, and the tokens it holds stop working. Not the console's own app: that would end
     * every console session, this one's included, with no page left to undo it.
     */
    @PostMapping(PAGE + "/apps/{id}/disable")
    String disableApp(@PathVariable("id") String id, HttpServletRequest request) {
        String actor = access.require(request, Permissions.MANAGE_USERS, PAGE + "/apps/" + safeClientId(id) + "/disable")
                .principal();
        new Fields(request, Set.of(), "disabling takes no fields");
        SmartApps.Summary app = apps.find(clientId(id))
                .orElseThrow(() -> new ConsoleRefusal(404, "There is no such app."));
        if (ConsoleApp.CLIENT_ID.equals(app.clientId())) {
            throw new ConsoleRefusal(409, "The console's own app is not disabled from the console: every console "
                    + "session would end with it.");
        }
        if (!app.disabled()) {
            apps.disable(app.clientId(), actor, AuditContext.of(request));
        }
        return "redirect:" + PAGE + "?done=app-disabled";
    }

    private static String clientId(String id) {
        if (id == null || !CLIENT_ID.matcher(id).matches()) {
            throw new ConsoleRefusal(404, "There is no such client or app.");
        }
        return id;
    }

    /** A client id in an audited path, if it is one; otherwise {@code *}. */
    private static String safeClientId(String id) {
        return id != null && CLIENT_ID.matcher(id).matches() ? id : "*";
    }

    @PostMapping(PAGE + "/{name}/roles")
    String setRoles(@PathVariable("name") String name, HttpServletRequest request) {
        String resource = PAGE + "/" + ConsolePaths.safeName(name) + "/roles";
        Caller actor = access.require(request, Permissions.MANAGE_USERS, resource);
        Fields fields = new Fields(request, Set.of("roles"), "roles are roles of the policy directory");
        String user = existing(name);
        Set<String> wanted = roleSet(request, fields);
        // One person must not become two, nor grant more than they hold (review of the console, HIGH):
        // nobody changes their own roles here, and a role is granted only by someone holding all it grants.
        if (user.equalsIgnoreCase(actor.principal())) {
            access.denied(request, actor.principal(), resource);
            throw new ConsoleRefusal(403, "Nobody changes their own roles; another administrator must.");
        }
        if (!permissionsOf(actor.roles()).containsAll(permissionsOf(wanted))) {
            access.denied(request, actor.principal(), resource);
            throw new ConsoleRefusal(403, "A role can be granted only by someone who holds every permission it grants.");
        }
        refusedAsPage(() -> {
            users.setRoles(user, wanted, actor.principal());
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
        model.addAttribute("roles", roles.roles().stream().map(role -> new RoleView(role.name(),
                role.permissions().stream().sorted().toList(), constraints(role))).toList());
        model.addAttribute("title", "Users and roles");
        return "console/users";
    }

    /** A role's constraints in words: its time window with the zone, and its address ranges. */
    static String constraints(RoleCatalog.RoleSummary role) {
        if (role.unconstrained()) {
            return "at any time, from any address (an access review lists it)";
        }
        String when = role.hasTimeWindow() ? "only " + role.timeWindow() : "at any time";
        String where = role.hasIpRange() ? "only from " + String.join(", ", role.ipRanges()) : "from any address";
        return when + "; " + where + (role.breakGlassOutsideIpRange() ? "; break-glass allowed from elsewhere" : "");
    }

    /** Every permission the roles grant (roles the directory does not hold grant nothing). */
    private Set<String> permissionsOf(Set<String> roleNames) {
        Set<String> granted = new java.util.HashSet<>();
        for (RoleCatalog.RoleSummary role : roles.roles()) {
            if (roleNames.contains(role.name())) {
                granted.addAll(role.permissions());
            }
        }
        return granted;
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
