package health.carapace.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "rotate-deks", mixinStandardHelpOptions = true,
        description = {"Adds a new data key to each patient's keyset (or one patient's), re-encrypts their",
            "stored versions under it, then destroys the old keys once no ciphertext refers to them."})
final class RotateDeksCommand extends KeyRotationCommand {
    @Option(names = "--patient", description = "Rotate only this Patient's key (its id).")
    java.util.UUID patient;

    @Override
    java.util.UUID start(health.carapace.crypto.KeyRotation rotation, String actor) {
        return rotation.rotateDeks(actor, patient);
    }
}
