package health.carapace.cli;

import picocli.CommandLine.Command;

@Command(name = "keys", mixinStandardHelpOptions = true,
        description = "Key lifecycle: rotation, status and crypto-shredding.",
        subcommands = {RotateKekCommand.class, RotateDeksCommand.class, RotateIndexKeysCommand.class,
            RotateStateKeysCommand.class, KeyStatusCommand.class,
            ShreddingCommands.class, ResetHsmLoginsCommand.class})
final class KeysCommands {
}
