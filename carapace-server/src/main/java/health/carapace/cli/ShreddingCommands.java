package health.carapace.cli;

import picocli.CommandLine.Command;

@Command(name = "shredding", mixinStandardHelpOptions = true,
        description = "Crypto-shredding requests (made and approved through POST /admin/keys/shredding).",
        subcommands = {ShreddingListCommand.class, ShreddingReapplyCommand.class, ShreddingHeadCommand.class})
final class ShreddingCommands {
}
