package health.carapace.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Prints every key's version, age, state and encryptions, and the progress of key jobs.")
final class KeyStatusCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var status = installation.run(ctx -> ctx.getBean(health.carapace.crypto.KeyRotation.class).status());
        spec.commandLine().getOut().print(health.carapace.crypto.KeyStatusReport.text(status, java.time.Instant.now()));
        spec.commandLine().getOut().flush();
        return status.keys().stream().anyMatch(health.carapace.crypto.KeyRotation.Key::warning) ? 3 : 0;
    }
}
