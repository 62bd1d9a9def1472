package health.carapace.cli;

import picocli.CommandLine.Command;

@Command(name = "incident", mixinStandardHelpOptions = true,
        description = "Breach response: list, show, acknowledge, contain and close incidents, preserve evidence "
                + "(docs/INCIDENTS.md).",
        subcommands = {ListIncidentsCommand.class, ShowIncidentCommand.class, AcknowledgeIncidentCommand.class,
            CloseIncidentCommand.class, ContainIncidentCommand.class,
            EvidenceCommand.class, OpenEvidenceCommand.class, EvidenceKeysCommand.class})
final class IncidentCommands {
}
