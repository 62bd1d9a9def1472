package health.carapace.cli;

import picocli.CommandLine.Command;

@Command(name = "drill", mixinStandardHelpOptions = true,
        description = "Breach-response drills against the live server, and their trend (docs/INCIDENTS.md).",
        subcommands = {RunDrillCommand.class, DrillReportCommand.class})
final class DrillCommands {
}
