package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.net.http.HttpTimeoutException;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OperationStatsTest {

    @Test
    void countsEveryResponseByStatusAndEveryFailureByKind() {
        OperationStats stats = new OperationStats(Operation.READ_PATIENT);
        stats.recordResponse(200, TimeUnit.MILLISECONDS.toNanos(10));
        stats.recordResponse(200, TimeUnit.MILLISECONDS.toNanos(20));
        stats.recordResponse(404, TimeUnit.MILLISECONDS.toNanos(5));
        stats.recordResponse(503, TimeUnit.MILLISECONDS.toNanos(1));
        stats.recordTransportError(new CompletionException(new HttpTimeoutException("request timed out")));
        stats.recordTransportError(new ConnectException());

        OperationStats.Snapshot snapshot = stats.snapshot();
        assertThat(snapshot.responses()).isEqualTo(4);
        assertThat(snapshot.successes()).isEqualTo(2);
        assertThat(snapshot.errorsByStatus()).containsOnlyKeys(404, 503);
        assertThat(snapshot.transportErrors()).containsEntry("timeout", 1L).containsEntry("ConnectException", 1L);
        assertThat(snapshot.errors()).isEqualTo(4);
        assertThat(snapshot.latencyMicros().getTotalCount()).isEqualTo(4);
        assertThat(snapshot.latencyMicros().getMaxValue()).isBetween(19_900L, 20_100L);
    }

    @Test
    void aRedirectIsAnErrorForTheseRequests() {
        OperationStats stats = new OperationStats(Operation.READ_PATIENT);
        stats.recordResponse(302, 1000);
        assertThat(stats.snapshot().errorsByStatus()).containsEntry(302, 1L);
    }

    @Test
    void mergingOperationsAddsCountsAndLatencies() {
        OperationStats reads = new OperationStats(Operation.READ_PATIENT);
        OperationStats creates = new OperationStats(Operation.CREATE_PATIENT);
        reads.recordResponse(200, 1_000_000);
        creates.recordResponse(201, 3_000_000);
        creates.recordResponse(500, 2_000_000);
        creates.recordTransportError(new ConnectException());

        OperationStats.Snapshot total = OperationStats.Snapshot.merge(null, List.of(reads.snapshot(), creates.snapshot()));
        assertThat(total.responses()).isEqualTo(3);
        assertThat(total.successes()).isEqualTo(2);
        assertThat(total.errors()).isEqualTo(2);
        assertThat(total.latencyMicros().getTotalCount()).isEqualTo(3);
        assertThat(total.responsesByStatus()).containsEntry(200, 1L).containsEntry(201, 1L).containsEntry(500, 1L);
    }

    @Test
    void recordingFromManyThreadsLosesNothing() throws Exception {
        OperationStats stats = new OperationStats(Operation.READ_PATIENT);
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 25_000; i++) {
                    stats.recordResponse(i % 100 == 0 ? 503 : 200, 1_000_000 + i);
                }
            });
            threads[t].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        OperationStats.Snapshot snapshot = stats.snapshot();
        assertThat(snapshot.responses()).isEqualTo(100_000);
        assertThat(snapshot.errorsByStatus()).containsEntry(503, 1_000L);
        assertThat(snapshot.latencyMicros().getTotalCount()).isEqualTo(100_000);
    }
}
