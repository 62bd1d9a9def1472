package health.carapace.cli;

import picocli.CommandLine.Command;

@Command(name = "rotate-kek", mixinStandardHelpOptions = true,
        description = {"Generates a new KEK version in the HSM (or dev keystore), re-wraps every wrapped key",
            "under it, then retires the old version. Reads and writes continue throughout."})
final class RotateKekCommand extends KeyRotationCommand {
    @Override
    java.util.UUID start(health.carapace.crypto.KeyRotation rotation, String actor) {
        return rotation.rotateKek(actor);
    }
}
