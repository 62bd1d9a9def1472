package health.carapace.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./carapace incident evidence} takes the thread dump of the serving node on its host (found
 * by the pid file the server writes, dumped with jcmd), not of the command's own process: the server
 * and the command are two processes here, as in production, and the bundle's {@code threads.txt}
 * names the server's pid and its Tomcat request threads and none of the command's frames. Once the
 * server has stopped, its pid file is gone and the command refuses (exit 2, no bundle); a pid file
 * left by a crash whose pid now belongs to another process is refused too.
 */
class EvidenceOfTheServingNodeTest {

    private static final Pattern INCIDENT = Pattern.compile(
            "(?m)^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\t");

    @TempDir
    Path temp;

    @Test
    void theBundleHoldsTheServingNodesThreadsAndNoServerMeansNoBundle() throws Exception {
        Path dataDir = temp.resolve("data");
        Path bundle = temp.resolve("bundle.evidence");
        try (DevServerProcess server = new DevServerProcess(dataDir, DevServerProcess.freePort())) {
            server.start();
            Path pidFile = dataDir.resolve("carapace.pid");
            long serverPid = Long.parseLong(Files.readAllLines(pidFile, StandardCharsets.US_ASCII).get(0).strip());
            assertThat(ProcessHandle.of(serverPid)).isPresent();

            // ten forged tokens from one address: a credential-attack incident (by address)
            HttpClient http = server.http(Duration.ofSeconds(5));
            for (int i = 0; i < 10; i++) {
                http.send(HttpRequest.newBuilder(server.base().resolve("/fhir/Patient"))
                        .header("Authorization", "Bearer forged.token." + i).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
            }
            String incident = null;
            for (int attempt = 0; attempt < 5 && incident == null; attempt++) {
                DevServerProcess.CommandResult list = server.run("incident", "list", "--detector", "credential-attack");
                Matcher found = INCIDENT.matcher(list.output());
                incident = found.find() ? found.group(1) : null;
            }
            assertThat(incident).as("the detectors opened the incident").isNotNull();

            DevServerProcess.CommandResult made = server.run("incident", "evidence", incident, "--out", bundle.toString());
            assertThat(made.exitCode()).as(made.output()).isZero();
            Path opened = temp.resolve("opened");
            // the compliance officer's command needs no installation: run here
            java.io.StringWriter said = new java.io.StringWriter();
            picocli.CommandLine officer = health.carapace.CarapaceCli.commandLine();
            officer.setOut(new java.io.PrintWriter(said));
            officer.setErr(new java.io.PrintWriter(said));
            int open = officer.execute("incident", "evidence-open", bundle.toString(),
                    "--private-key", dataDir.resolve("evidence/evidence-private-key.json").toString(),
                    "--out", opened.toString());
            assertThat(open).as(said.toString()).isZero();
            String threads = Files.readString(opened.resolve("threads.txt"));
            assertThat(threads).startsWith("threads of the serving node, pid " + serverPid)
                    .containsPattern("\"https-jsse-nio-[^\"]*-exec-[0-9]+\"")
                    .contains("\"incident-detectors\"")
                    .as("nothing of the command's own process").doesNotContain("EvidenceCommand")
                    .doesNotContain("picocli");
            assertThat(Files.readString(opened.resolve("manifest.json")))
                    .contains("of the serving node, pid " + serverPid);
        }

        // the server stopped: its pid file went with it, and nothing else is asked
        assertThat(dataDir.resolve("carapace.pid")).doesNotExist();
        try (DevServerProcess stopped = new DevServerProcess(dataDir, DevServerProcess.freePort())) {
            Path none = temp.resolve("none.evidence");
            DevServerProcess.CommandResult refused = stopped.run("incident", "evidence",
                    "00000000-0000-0000-0000-000000000000", "--out", none.toString());
            assertThat(refused.exitCode()).isEqualTo(2);
            assertThat(refused.output()).contains("no serving node on this host");
            assertThat(none).doesNotExist();

            // a pid file left by a crash, its pid now another process's (this test's JVM): refused
            Files.write(dataDir.resolve("carapace.pid"), List.of(Long.toString(ProcessHandle.current().pid()),
                    "2020-01-01T00:00:00Z"), StandardCharsets.US_ASCII);
            Files.setPosixFilePermissions(dataDir.resolve("carapace.pid"),
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            DevServerProcess.CommandResult stale = stopped.run("incident", "evidence",
                    "00000000-0000-0000-0000-000000000000", "--out", none.toString());
            assertThat(stale.exitCode()).isEqualTo(2);
            assertThat(stale.output()).contains("stale file");
            assertThat(none).doesNotExist();
        }
    }
}
