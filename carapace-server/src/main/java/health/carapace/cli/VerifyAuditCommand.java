package health.carapace.cli;

import health.carapace.audit.AuditVerifier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Recomputes the audit Merkle tree from the database, checks every tree head's root and",
            "signature and every witnessed head, and reports the first entry that does not match.",
            "Exit code 0 when the trail is intact, 1 when it is not."})
final class VerifyAuditCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        AuditVerifier.Report report = installation.run(ctx -> ctx.getBean(AuditVerifier.class).verify());
        var out = spec.commandLine().getOut();
        out.println((report.ok() ? "OK" : "TAMPERED") + ": " + report.eventsChecked() + " events, "
                + report.headsChecked() + " signed tree heads checked");
        if (!report.ok()) {
            out.println("first problem: " + report.firstProblem());
        }
        out.flush();
        return report.ok() ? 0 : 1;
    }
}
