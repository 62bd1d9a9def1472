package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Drives the stub server for well under a second per test: checks the accounting, not speed. */
class LoadDriverTest {

    private StubFhirServer server;
    private ExecutorService io;
    private LoadDriver driver;

    private static final LoadDriver.WindowListener NO_SAMPLING = new LoadDriver.WindowListener() {
        @Override
        public void opened() {
        }

        @Override
        public void closed() {
        }
    };

    @BeforeEach
    void start() throws Exception {
        server = new StubFhirServer();
        io = Executors.newFixedThreadPool(2);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(io).build();
        FhirRequests requests = new FhirRequests(server.base(), Duration.ofSeconds(5), () -> "Bearer token-test",
                new SyntheticData(42));
        requests.use(new Dataset(List.of(new Dataset.SeededPatient("a", "100000000001"),
                new Dataset.SeededPatient("b", "100000000002")), 0));
        driver = new LoadDriver(client, io, requests);
    }

    @AfterEach
    void stop() {
        io.shutdownNow();
        server.close();
    }

    @Test
    void everyRequestSentIsCountedInExactlyOnePhase() throws Exception {
        LoadDriver.Run run = driver.run(Workload.READ_PATIENT, 4, Duration.ofMillis(200), Duration.ofMillis(400), 1,
                Duration.ofSeconds(5), NO_SAMPLING);

        OperationStats.Snapshot warmup = run.warmup().of(Operation.READ_PATIENT).snapshot();
        OperationStats.Snapshot measured = run.measured().of(Operation.READ_PATIENT).snapshot();
        assertThat(warmup.responses()).isPositive();
        assertThat(measured.responses()).isPositive();
        assertThat(warmup.responses() + measured.responses()).isEqualTo(server.reads.get());
        assertThat(run.requestsStillInFlight()).isZero();
        assertThat(run.window()).isBetween(Duration.ofMillis(390), Duration.ofMillis(700));
    }

    @Test
    void errorResponsesAreCountedAndTheLoadGoesOn() throws Exception {
        server.failEveryNthRead = 5;
        LoadDriver.Run run = driver.run(Workload.READ_PATIENT, 2, Duration.ZERO, Duration.ofMillis(300), 1,
                Duration.ofSeconds(5), NO_SAMPLING);

        OperationStats.Snapshot measured = run.measured().of(Operation.READ_PATIENT).snapshot();
        assertThat(measured.errorsByStatus()).containsKey(503);
        assertThat(measured.errorsByStatus().get(503)).isEqualTo(server.reads.get() / 5);
        assertThat(measured.successes()).isPositive();
    }

    @Test
    void aServerThatIsDownGivesTransportErrorsNotSilence() throws Exception {
        server.close();
        LoadDriver.Run run = driver.run(Workload.READ_PATIENT, 2, Duration.ZERO, Duration.ofMillis(200), 1,
                Duration.ofSeconds(5), NO_SAMPLING);

        OperationStats.Snapshot measured = run.measured().of(Operation.READ_PATIENT).snapshot();
        assertThat(measured.responses()).isZero();
        assertThat(measured.transportErrorCount()).isPositive();
        assertThat(measured.transportErrors()).containsKey("ConnectException");
    }
}
