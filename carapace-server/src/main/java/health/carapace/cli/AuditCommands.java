package health.carapace.cli;

import picocli.CommandLine.Command;

@Command(name = "audit", mixinStandardHelpOptions = true, description = "Audit trail tasks.",
        subcommands = {VerifyAuditCommand.class, ExportAuditCommand.class, DisclosuresCommand.class})
final class AuditCommands {
}
