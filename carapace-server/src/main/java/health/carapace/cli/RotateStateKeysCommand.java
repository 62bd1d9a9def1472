package health.carapace.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "rotate-state-keys", mixinStandardHelpOptions = true,
        description = {"Adds a new key to every state sealing keyset (the sign-in state's) and makes it the one",
            "that seals. The keys it replaces still open what they sealed until that has expired; then",
            "the servers destroy them. Nothing is re-encrypted and nobody is signed out."})
final class RotateStateKeysCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        String actor = operator();
        var rotated = installation.run(ctx -> ctx.getBean(health.carapace.crypto.KeyRotation.class).rotateStateKeys(actor));
        if (rotated.isEmpty()) {
            out.println("No state keyset exists yet (one is made at the first sign-in)");
        }
        rotated.forEach(key -> out.println("New sealing key " + key));
        out.flush();
        return 0;
    }
}
