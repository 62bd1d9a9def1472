package health.carapace.cli;

import health.carapace.signin.AccessReview;

/** The access review as text for operators: one block per principal, then the findings. */
final class AccessReportText {

    private AccessReportText() {
    }

    static String of(AccessReview.Report report) {
        StringBuilder out = new StringBuilder();
        out.append("Access review, ").append(report.generatedAt()).append(", unused = no use in the last ")
                .append(report.days()).append(" days\n\n");
        for (AccessReview.Principal p : report.principals()) {
            out.append(p.kind()).append(' ').append(p.name()).append(p.disabled() ? " (disabled)" : "")
                    .append(p.kind().equals("user") && !p.mfaEnrolled() ? " (no MFA)" : "")
                    .append(p.dormant() ? " (dormant)" : "").append('\n');
            out.append("  roles:   ").append(list(p.roles())).append('\n');
            if (!p.undefinedRoles().isEmpty()) {
                out.append("  undefined roles (grant nothing): ").append(list(p.undefinedRoles())).append('\n');
            }
            out.append("  granted: ").append(list(p.granted())).append('\n');
            out.append("  unused:  ").append(list(p.unused())).append('\n');
        }
        out.append("\nUsers without MFA: ").append(list(report.usersWithoutMfa())).append('\n');
        out.append("Dormant (no sign-in, or for a service client no audited action, in the window): ")
                .append(list(report.dormant())).append('\n');
        out.append("Disabled users still holding a session (must be none): ")
                .append(list(report.disabledWithLiveSessions())).append('\n');
        out.append("Roles without constraints (no time window, no IP range): ")
                .append(list(report.unconstrainedRoles())).append('\n');
        return out.toString();
    }

    private static String list(java.util.Collection<String> values) {
        return values.isEmpty() ? "none" : String.join(", ", values);
    }
}
