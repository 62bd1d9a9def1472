package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The whole command against the stub server: a few hundred milliseconds per workload. */
class CarapaceBenchTest {

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine command = CarapaceBench.commandLine();
        command.setOut(new PrintWriter(out));
        command.setErr(new PrintWriter(err));
        return command.execute(args);
    }

    @Test
    void everyWorkloadRunsWithClientCredentialsAndLandsInTheReport() throws Exception {
        try (StubFhirServer server = new StubFhirServer()) {
            Path report = dir.resolve("report.json");
            int exit = run("-u", server.base().toString(), "-w", "all", "-c", "2", "--warmup", "100ms", "-d", "200ms",
                    "--dataset-patients", "5", "--observations-per-patient", "2", "--client-id", StubFhirServer.CLIENT_ID,
                    "--client-secret", StubFhirServer.CLIENT_SECRET, "-o", report.toString());

            assertThat(exit).as(err.toString()).isZero();
            JsonNode json = new ObjectMapper().readTree(Files.readString(report));
            assertThat(json.path("workloads")).hasSize(Workload.values().length - 2); // all but the soak's and token issuance
            for (JsonNode workload : json.path("workloads")) {
                assertThat(workload.path("requests").asLong()).as(workload.path("name").asText()).isPositive();
                assertThat(workload.path("errors").asLong()).as(workload.path("name").asText()).isZero();
            }
            assertThat(out.toString()).contains("search-patient-by-identifier").contains("mixed");
            assertThat(server.tokensIssued()).isEqualTo(1);
        }
    }

    @Test
    void aRejectedClientSecretStopsTheRunBeforeAnyLoadWithoutEchoingTheSecret() throws Exception {
        try (StubFhirServer server = new StubFhirServer()) {
            int exit = run("-u", server.base().toString(), "-w", "read-patient", "--client-id", StubFhirServer.CLIENT_ID,
                    "--client-secret", "wrong-secret", "-o", dir.resolve("r.json").toString());

            assertThat(exit).isEqualTo(2);
            assertThat(err.toString()).contains("answered 401").doesNotContain("wrong-secret");
            assertThat(server.reads.get()).isZero();
        }
    }

    @Test
    void theSeededPatientsCanBeWrittenForWrk() throws Exception {
        try (StubFhirServer server = new StubFhirServer()) {
            Path ids = dir.resolve("patients.txt");
            int exit = run("-u", server.base().toString(), "--seed-only", "--write-dataset", ids.toString(),
                    "--dataset-patients", "3", "--observations-per-patient", "0", "--client-id", StubFhirServer.CLIENT_ID,
                    "--client-secret", StubFhirServer.CLIENT_SECRET);

            assertThat(exit).as(err.toString()).isZero();
            assertThat(Files.readAllLines(ids)).hasSize(3).allMatch(id -> id.startsWith("patient-"));
        }
    }

    @Test
    void theSeededIdentifiersCanBeWrittenForWrkInTheOrderOfTheIds() throws Exception {
        try (StubFhirServer server = new StubFhirServer()) {
            Path ids = dir.resolve("patients.txt");
            Path identifiers = dir.resolve("identifiers.txt");
            int exit = run("-u", server.base().toString(), "--seed-only", "--seed", "7", "--write-dataset", ids.toString(),
                    "--write-identifiers", identifiers.toString(), "--dataset-patients", "3",
                    "--observations-per-patient", "0", "--client-id", StubFhirServer.CLIENT_ID,
                    "--client-secret", StubFhirServer.CLIENT_SECRET);

            assertThat(exit).as(err.toString()).isZero();
            SyntheticData data = new SyntheticData(7);
            assertThat(Files.readAllLines(identifiers)).containsExactly(
                    SyntheticData.MRN_SYSTEM + "|" + data.mrn(SyntheticData.Stream.DATASET, 0),
                    SyntheticData.MRN_SYSTEM + "|" + data.mrn(SyntheticData.Stream.DATASET, 1),
                    SyntheticData.MRN_SYSTEM + "|" + data.mrn(SyntheticData.Stream.DATASET, 2));
            for (int i = 0; i < 3; i++) {
                assertThat(server.patientIdByMrn(data.mrn(SyntheticData.Stream.DATASET, i)))
                        .isEqualTo(Files.readAllLines(ids).get(i));
            }
        }
    }

    @Test
    void aSoakRecordsEachIntervalWithUpdatesAndJudgesIt() throws Exception {
        try (StubFhirServer server = new StubFhirServer()) {
            Path report = dir.resolve("soak.json");
            Path gcLog = dir.resolve("gc.log");
            Files.writeString(gcLog, "[2000-01-01T00:00:00.000+0000][1.000s][info][gc] GC(0) Pause Young (Normal) "
                    + "(G1 Evacuation Pause) 24M->3M(256M) 3.000ms\n");
            long self = ProcessHandle.current().pid();
            int exit = run("-u", server.base().toString(), "--soak", "-c", "2", "-d", "3s", "--interval", "1s",
                    "--flat-from", "0s", "--server-pid", Long.toString(self), "--gc-log", gcLog.toString(),
                    "--dataset-patients", "5", "--observations-per-patient", "1", "--client-id", StubFhirServer.CLIENT_ID,
                    "--client-secret", StubFhirServer.CLIENT_SECRET, "-o", report.toString());

            JsonNode json = new ObjectMapper().readTree(Files.readString(report));
            assertThat(json.path("kind").asText()).isEqualTo("soak");
            assertThat(json.path("workload").asText()).isEqualTo("soak");
            assertThat(json.path("minutes")).hasSize(3);
            for (JsonNode minute : json.path("minutes")) {
                assertThat(minute.path("requests").asLong()).isPositive();
                assertThat(minute.path("errors").asLong()).isZero();
                assertThat(minute.path("serverRssMiB").asDouble()).isPositive();
                assertThat(minute.path("p99Ms").asDouble()).isPositive();
            }
            // updates went out and the stub accepted them as updates of seeded patients (400 otherwise)
            assertThat(server.updates.get()).isPositive();
            assertThat(json.path("gcTotal").path("pauses").asInt()).isEqualTo(1);
            assertThat(json.path("verdict").path("errors").asLong()).isZero();
            // the bench's own JVM stands in for the server here: flat or not, the exit code says what the verdict says
            assertThat(exit).as(err.toString()).isEqualTo(json.path("verdict").path("passed").asBoolean() ? 0 : 1);
            assertThat(Files.readString(dir.resolve("soak.md"))).contains("| minute | req/s | errors |")
                    .contains("**Verdict: ");
        }
    }

    @Test
    void aSoakWithoutAServerProcessIsRefused() throws Exception {
        try (StubFhirServer server = new StubFhirServer()) {
            int exit = run("-u", server.base().toString(), "--soak", "-o", dir.resolve("s.json").toString());

            assertThat(exit).isEqualTo(2);
            assertThat(err.toString()).contains("--soak needs --server-pid");
            assertThat(server.reads.get()).isZero();
        }
    }

    @Test
    void conflictingTlsOptionsAreRefused() {
        int exit = run("--insecure", "--cacert", "x.pem");
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("--insecure and --cacert exclude each other");
    }
}
