package health.carapace.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceCli;
import health.carapace.verify.SignedReport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./carapace compliance ...} against a start-dev data directory, as an operator runs it. */
class ComplianceCommandsTest {

    @TempDir
    Path dataDir;

    @TempDir
    Path exportDir;

    @Test
    void aReportThatCannotEvaluateEveryCheckExitsTwoAndItsExportVerifiesOffline() throws Exception {
        int nobodyListens;
        try (ServerSocket socket = new ServerSocket(0)) {
            nobodyListens = socket.getLocalPort();
        }
        Run report = run("compliance", "report", "--data-dir", dataDir.toString(), "--server.port=" + nobodyListens);
        Run export = run("compliance", "export", "--data-dir", dataDir.toString(), "--out", exportDir.toString());

        assertThat(report.exit()).as(report.out()).isEqualTo(2);
        assertThat(report.out()).contains("OVERALL: UNKNOWN").containsPattern("UNKNOWN +platform.tls +no TLS listener");
        assertThat(export.exit()).as(export.out()).isZero();
        String pem = Files.readString(exportDir.resolve("compliance-report-key.pem"));
        List<Path> files;
        try (Stream<Path> listing = Files.list(exportDir)) {
            files = listing.filter(p -> p.toString().endsWith(".signed.json")).toList();
        }
        assertThat(files).hasSize(1);
        SignedReport.Verified verified = SignedReport.verify(Files.readAllBytes(files.get(0)),
                SignedReport.publicKeyFromPem(pem));
        assertThat(verified.reportText()).contains("\"overall\" : \"unknown\"");
    }

    @Test
    void aScanTargetOutsideTheLoopbackIsRefusedBeforeAnythingRuns() {
        for (String target : List.of("https://example.org:443", "https://10.1.2.3:8443", "http://127.0.0.1:8443",
                "https://127.0.0.1:8443/fhir?x=1")) {
            Run scan = run("compliance", "scan", "--data-dir", dataDir.toString(), "--target", target);

            assertThat(scan.exit()).as(target).isEqualTo(2);
            assertThat(scan.out()).as(target).contains("scan target").doesNotContain(target);
        }
        assertThat(dataDir).isEmptyDirectory();
    }

    @Test
    void aMalformedAccessEndIsRefused() {
        Run refused = run("admin", "set-access-end", "someone", "--at", "next tuesday", "--data-dir", dataDir.toString());

        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.out()).contains("ISO 8601").doesNotContain("next tuesday");
    }

    private record Run(int exit, String out) {}

    private static Run run(String... args) {
        CommandLine cli = CarapaceCli.commandLine();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(out));
        int exit = cli.execute(args);
        return new Run(exit, out.toString());
    }
}
