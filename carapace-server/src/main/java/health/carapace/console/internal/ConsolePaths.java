package health.carapace.console.internal;

import health.carapace.console.ConsoleApp;
import jakarta.servlet.http.HttpServletRequest;
import java.util.regex.Pattern;

/**
 * Console paths as the console writes them into the audit trail and into a return address: only
 * its own route words and ids survive; any other segment (text a visitor typed into the address
 * bar) becomes {@code *}. Never a query string.
 */
final class ConsolePaths {

    private static final Pattern ROUTE_WORD = Pattern.compile(
            "console|incidents|audit|disclosures|events|acknowledge|contain|risk|breach|close|evidence|proof|keys|shredding"
                    + "|approve|refuse|sign-out|compliance|evaluate|reports|public-key|drills|users|roles|disable|revoke-sessions"
                    + "|disclosures\\.csv|access-review|break-glass|clients|apps|run");
    private static final Pattern ID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private ConsolePaths() {
    }

    static String audited(HttpServletRequest request) {
        String path = request.getRequestURI();
        StringBuilder safe = new StringBuilder();
        String[] segments = path == null ? new String[0] : path.split("/", -1);
        for (int i = 1; i < segments.length && i <= 6; i++) {
            String segment = segments[i];
            boolean kept = ROUTE_WORD.matcher(segment).matches() || ID.matcher(segment).matches();
            safe.append('/').append(kept ? segment : "*");
        }
        return safe.isEmpty() ? ConsoleApp.PATH : safe.toString();
    }

    /** A user name in an audited path, if it is one; otherwise {@code *}. */
    static String safeName(String name) {
        return name != null && health.carapace.access.Caller.USER_NAME.matcher(name).matches() ? name : "*";
    }

    /** Where to go after a sign-in: the page asked for if its path is made of route words and ids only. */
    static String returnTo(HttpServletRequest request) {
        String audited = audited(request);
        return audited.contains("*") || !audited.startsWith(ConsoleApp.PATH) ? ConsoleApp.PATH : audited;
    }
}
