package health.carapace.cli;

import health.carapace.compliance.ComplianceReports;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Writes every stored compliance report, signed, to a directory (one file per report, oldest first",
            "by name) with the public key that verifies them, for an auditor: java -jar carapace-verify.jar report",
            "DIR/*.signed.json --public-key KEY.pem (give them the key through another channel too)."})
final class ComplianceExportCommand extends InstallationCommand {

    @Option(names = "--out", required = true, description = "Directory to write to (created if missing).")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static ComplianceReports.Format format(String name) {
        try {
            return ComplianceReports.Format.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InstallationOptions.UnknownOption("--format must be text, json, html, pdf or signed");
        }
    }

    @Override
    public Integer call() throws Exception {
        record Export(List<ComplianceReports.Stored> reports, String publicKey) {}
        Export export = installation.run(ctx -> {
            ComplianceReports reports = ctx.getBean(ComplianceReports.class);
            return new Export(reports.stored(), reports.publicKeyPem());
        });
        Files.createDirectories(out);
        for (ComplianceReports.Stored report : export.reports()) {
            String name = report.measuredAt().toString().replace(':', '-') + "-" + report.id() + ".signed.json";
            Files.write(out.resolve(name), report.signedFile());
        }
        Files.writeString(out.resolve("compliance-report-key.pem"), export.publicKey(), StandardCharsets.US_ASCII);
        spec.commandLine().getOut().println(export.reports().size() + " signed reports and compliance-report-key.pem written to " + out);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
