package health.carapace.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "access-report", mixinStandardHelpOptions = true,
        description = {"The access review: per user and service client the permissions granted by their roles",
            "and those not used in the last N days (from the audit trail), users without MFA, disabled users",
            "still holding a session (must be none: exit code 1 otherwise), roles without constraints."})
final class AccessReportCommand extends InstallationCommand {

    @Option(names = "--days", defaultValue = "90", description = "Window for unused permissions (default: ${DEFAULT-VALUE}).")
    int days;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        health.carapace.signin.AccessReview.Report report = installation.run(ctx -> {
            var built = ctx.getBean(health.carapace.signin.AccessReview.class).report(days, java.time.Instant.now());
            // looking at who may do what is itself audited
            auditExport(ctx, "/admin/access-report", null);
            return built;
        });
        spec.commandLine().getOut().print(AccessReportText.of(report));
        spec.commandLine().getOut().flush();
        return report.clean() ? 0 : 1;
    }
}
