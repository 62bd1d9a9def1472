package health.carapace.cli;

import health.carapace.compliance.ComplianceReports;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Evaluates every compliance check now, signs and stores the report (append-only), and prints it.",
            "Run it while the server runs: the TLS check talks to its listener.",
            "Exit code 0 when every check passes (or is not applicable), 1 when some fail, 2 when some could not be evaluated."})
final class ComplianceReportCommand extends InstallationCommand {

    @Option(names = "--format", defaultValue = "text",
            description = "text, json, html, pdf or signed (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--out", description = "Write the report to this file instead of standard output (needed for pdf).")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ComplianceReports.Format chosen = ComplianceExportCommand.format(format);
        if (chosen == ComplianceReports.Format.PDF && out == null) {
            throw new InstallationOptions.UnknownOption("--format pdf needs --out FILE");
        }
        record Result(ComplianceReports.Stored stored, byte[] rendered) {}
        Result result = installation.run(ctx -> {
            ComplianceReports reports = ctx.getBean(ComplianceReports.class);
            ComplianceReports.Stored stored = reports.evaluateAndStore();
            return new Result(stored, reports.render(stored, chosen));
        });
        if (out != null) {
            Files.write(out, result.rendered());
            spec.commandLine().getOut().println("report " + result.stored().id() + " ("
                    + result.stored().overall().name().toLowerCase(java.util.Locale.ROOT) + ") written to " + out);
        } else {
            spec.commandLine().getOut().print(new String(result.rendered(), java.nio.charset.StandardCharsets.UTF_8));
        }
        spec.commandLine().getOut().flush();
        return result.stored().overall().exitStatus();
    }
}
