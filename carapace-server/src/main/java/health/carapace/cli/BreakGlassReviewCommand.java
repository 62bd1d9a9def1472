package health.carapace.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "break-glass-review", mixinStandardHelpOptions = true,
        description = {"Lists the emergency accesses opened in the last N days with their reasons (decrypted:",
            "the output may contain PHI), for the review every break-glass needs. The review is audited."})
final class BreakGlassReviewCommand extends InstallationCommand {

    @Option(names = "--days", defaultValue = "30", description = "How far back (default: ${DEFAULT-VALUE}).")
    int days;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var grants = installation.run(ctx -> {
            var listed = ctx.getBean(health.carapace.access.BreakGlass.class)
                    .review(java.time.Instant.now().minus(java.time.Duration.ofDays(days)));
            auditExport(ctx, "/admin/break-glass-review", null);
            return listed;
        });
        var out = spec.commandLine().getOut();
        out.println("opened	expires	closed	principal	patient	grant	reason");
        for (var g : grants) {
            out.println(String.join("\t", g.openedAt().toString(), g.expiresAt().toString(),
                    g.closedAt() == null ? "-" : g.closedAt().toString(), g.principal(), g.patient(),
                    g.grantId().toString(), g.reasonKeyMissing() ? "(unavailable: the patient's data key is missing)"
                            : g.reason() == null ? "(destroyed by crypto-shredding)"
                            : g.reason().replaceAll("[\\t\\r\\n]", " ")));
        }
        out.flush();
        return 0;
    }
}
