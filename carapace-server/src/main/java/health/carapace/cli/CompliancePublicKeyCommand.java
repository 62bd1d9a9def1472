package health.carapace.cli;

import health.carapace.compliance.ComplianceReports;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "public-key", mixinStandardHelpOptions = true,
        description = "Prints the Ed25519 public key (PEM) that verifies this installation's compliance reports.")
final class CompliancePublicKeyCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String pem = installation.run(ctx -> ctx.getBean(ComplianceReports.class).publicKeyPem());
        spec.commandLine().getOut().print(pem);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
