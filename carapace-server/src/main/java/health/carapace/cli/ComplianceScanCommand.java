package health.carapace.cli;

import health.carapace.compliance.ComplianceReports;
import health.carapace.compliance.ScanTarget;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "scan", mixinStandardHelpOptions = true,
        description = {"Scans the running server from outside with the pipeline's gate (.ci/scan-gate: testssl.sh for TLS,",
            "wapiti for the web routes; Debian packages testssl.sh and wapiti), then records the date and the result,",
            "which feed the six-monthly scan check. The target must be this machine's server (loopback).",
            "With CARAPACE_SCAN_TOKEN set (a bearer token) the authenticated API is scanned too.",
            "Exit code 0 when the gate passes, 1 when it finds something above its severity, 2 when it cannot run."})
final class ComplianceScanCommand extends InstallationCommand {

    /** The gate's last line: {@code SCAN-GATE: PASS|FAIL findings=N summary=...}. */
    static final Pattern VERDICT = Pattern.compile("^SCAN-GATE: (PASS|FAIL) findings=(\\d{1,6}) summary=([ -~]{0,500})$");

    @Option(names = "--target", defaultValue = "https://127.0.0.1:8443",
            description = "The server to scan (loopback only; default: ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--gate", description = "The gate script (default: .ci/scan-gate of the Carapace checkout).")
    Path gate;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ScanTarget scanTarget = ScanTarget.parse(target);
        Path script = gate != null ? gate
                : Path.of(System.getenv().getOrDefault("CARAPACE_HOME", "."), ".ci", "scan-gate");
        if (!Files.isRegularFile(script)) {
            spec.commandLine().getErr().println("The scan gate " + script + " is missing (run from the Carapace checkout).");
            return 2;
        }
        ProcessBuilder builder = new ProcessBuilder("bash", script.toString(), scanTarget.url()).redirectErrorStream(true);
        Process process = builder.start();
        String verdict = null;
        var out = spec.commandLine().getOut();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                out.println(line);
                out.flush();
                if (line.startsWith("SCAN-GATE: ")) {
                    verdict = line;
                }
            }
        }
        int exit = process.waitFor();
        Matcher m = verdict == null ? null : VERDICT.matcher(verdict);
        if (m == null || !m.matches() || exit > 1) {
            spec.commandLine().getErr().println("The scan gate did not run to a verdict (exit " + exit + "); nothing recorded.");
            return 2;
        }
        boolean passed = m.group(1).equals("PASS") && exit == 0;
        ComplianceReports.Scan scan = new ComplianceReports.Scan(Instant.now(), scanTarget.url(), passed,
                Integer.parseInt(m.group(2)), m.group(3));
        installation.run(ctx -> {
            ctx.getBean(ComplianceReports.class).recordScan(scan);
            return null;
        });
        out.println("Scan recorded: " + (passed ? "passed" : "FAILED") + ", " + scan.findingsAboveThreshold()
                + " findings above the gate's severity.");
        out.flush();
        return passed ? 0 : 1;
    }
}
