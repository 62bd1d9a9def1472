package health.carapace.cli;

import picocli.CommandLine.Command;

@Command(name = "rotate-index-keys", mixinStandardHelpOptions = true,
        description = {"Creates a new blind-index root key, re-indexes every resource under it (search keeps",
            "working meanwhile), then retires the old one."})
final class RotateIndexKeysCommand extends KeyRotationCommand {
    @Override
    java.util.UUID start(health.carapace.crypto.KeyRotation rotation, String actor) {
        return rotation.rotateIndexKeys(actor);
    }
}
