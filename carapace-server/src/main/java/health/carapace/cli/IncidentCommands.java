package health.carapace.cli;

import picocli.CommandLine.Command;

@Command(name = "incident", mixinStandardHelpOptions = true,
        description = "Breach response: list, show, acknowledge, contain and close incidents (docs/INCIDENTS.md).",
        subcommands = {ListIncidentsCommand.class, ShowIncidentCommand.class, AcknowledgeIncidentCommand.class,
            CloseIncidentCommand.class, ContainIncidentCommand.class})
final class IncidentCommands {
}
