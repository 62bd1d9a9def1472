package health.carapace.cli;

import picocli.CommandLine.Command;

@Command(name = "compliance", mixinStandardHelpOptions = true,
        description = "Compliance evidence: live checks mapped to HIPAA and the proposed Security Rule, signed reports, scans.",
        subcommands = {ComplianceReportCommand.class, ComplianceExportCommand.class, CompliancePublicKeyCommand.class,
            ComplianceScanCommand.class})
final class ComplianceCommands {
}
