package health.carapace.console.internal;

import health.carapace.access.Permissions;
import jakarta.servlet.http.HttpServletRequest;

/**
 * Who is looking at a console page, and which parts of the console their permissions open now:
 * the navigation and each page's actions show only what would be allowed (the server still decides
 * every request on its own).
 */
public record Viewer(String principal, boolean incidents, boolean manageIncidents, boolean audit, boolean compliance,
        boolean keys, boolean metrics, boolean users) {

    static final Viewer NOBODY = new Viewer(null, false, false, false, false, false, false, false);

    static Viewer of(HttpServletRequest request, ConsoleAccess access) {
        return health.carapace.access.Callers.of(request)
                .map(caller -> new Viewer(caller.principal(),
                        access.grants(request, Permissions.VIEW_INCIDENTS),
                        access.grants(request, Permissions.MANAGE_INCIDENTS),
                        access.grants(request, Permissions.VIEW_AUDIT),
                        access.grants(request, Permissions.VIEW_COMPLIANCE),
                        access.grants(request, Permissions.MANAGE_KEYS),
                        access.grants(request, Permissions.VIEW_METRICS),
                        access.grants(request, Permissions.MANAGE_USERS)))
                .orElse(NOBODY);
    }

    public boolean signedIn() {
        return principal != null;
    }
}
