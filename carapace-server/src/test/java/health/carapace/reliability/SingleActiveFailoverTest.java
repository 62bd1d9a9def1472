package health.carapace.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.platform.dev.DevDatabase;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Single-active jobs fail over (issue #21, docs/RELIABILITY.md "Many nodes"): two start-dev
 * nodes in processes of their own on one database; the first holds the incident detectors'
 * reader lock (the sticky single-active job) and seals the audit trail; it is killed with
 * {@code kill -9}. The survivor must seal the events written after the kill and hold the
 * detectors' lock within 10 seconds, and the audit tree must stay dense (every event in exactly
 * one leaf, leaf indexes without a gap) and verify.
 */
class SingleActiveFailoverTest {

    /** The target of issue #21. */
    private static final Duration FAILOVER_TARGET = Duration.ofSeconds(10);
    /** {@code DetectorRunner.READER_LOCK}: "CARAPACE" ^ 15, a session-level advisory lock. */
    private static final long DETECTOR_LOCK = 0x4341524150414345L ^ 15;

    @Test
    void theSurvivorSealsAndReadsWithinTenSecondsOfAKillNineWithNoGapOrDuplicateInTheAuditTree() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "failover-");
        try (var first = new DevServerProcess(dataDir, DevServerProcess.freePort());
                var second = new DevServerProcess(dataDir, DevServerProcess.freePort())) {
            first.start();
            int pgPort = DevDatabase.runningPort(dataDir.resolve("pg")).orElseThrow();
            try (Connection db = DriverManager.getConnection(DevDatabase.jdbcUrl(pgPort), DevDatabase.OWNER, "")) {
                long firstHolder = await("the first node reads for the detectors").atMost(Duration.ofSeconds(60))
                        .until(() -> detectorLockHolder(db), Optional::isPresent).orElseThrow();
                second.start(); // attaches to the same database
                HttpClient toFirst = first.http(Duration.ofSeconds(5));
                HttpClient toSecond = second.http(Duration.ofSeconds(5));
                for (int i = 0; i < 10; i++) {
                    denied(toFirst, first);
                    denied(toSecond, second);
                }
                assertThat(detectorLockHolder(db)).as("still the first node").contains(firstHolder);

                long beforeKill = single(db, "select max(id) from audit.event");
                first.killServer();
                long killedAt = System.nanoTime();
                denied(toSecond, second);
                await("an event recorded after the kill").atMost(FAILOVER_TARGET)
                        .until(() -> single(db, "select max(id) from audit.event") > beforeKill);
                long lastEvent = single(db, "select max(id) from audit.event");

                await("the survivor seals the events written after the kill").atMost(FAILOVER_TARGET)
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> single(db, "select count(*) from audit.leaf where event_id = " + lastEvent) == 1);
                Duration sealedAfter = Duration.ofNanos(System.nanoTime() - killedAt);
                await("the survivor takes the detectors' reader lock").atMost(FAILOVER_TARGET)
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> detectorLockHolder(db).filter(pid -> pid != firstHolder).isPresent());
                Duration readingAfter = Duration.ofNanos(System.nanoTime() - killedAt);
                System.out.printf("failover after kill -9: sealing %d ms, detectors %d ms%n",
                        sealedAfter.toMillis(), readingAfter.toMillis());

                for (int i = 0; i < 10; i++) {
                    denied(toSecond, second);
                }
                await("every event sealed").atMost(FAILOVER_TARGET).until(() ->
                        single(db, "select count(*) from audit.event") == single(db, "select count(*) from audit.leaf"));
                assertThat(single(db, "select count(*) from (select event_id from audit.leaf group by event_id"
                        + " having count(*) > 1) duplicates")).as("events sealed twice").isZero();
                assertThat(single(db, "select coalesce(max(leaf_index) + 1, 0) - count(*) from audit.leaf"))
                        .as("gaps in the leaf indexes").isZero();
            }
            DevServerProcess.CommandResult verify = second.run("audit", "verify");
            assertThat(verify.exitCode()).as(verify.output()).isZero();
            assertThat(verify.output()).contains("OK:");
        }
        org.springframework.util.FileSystemUtils.deleteRecursively(dataDir);
    }

    /** A request without a token: refused with 401 and audited, by the node it is sent to. */
    private static void denied(HttpClient client, DevServerProcess node) throws Exception {
        HttpResponse<Void> response = client.send(HttpRequest.newBuilder(node.base().resolve("/fhir/Patient"))
                .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.discarding());
        assertThat(response.statusCode()).isEqualTo(401);
    }

    /** The backend holding the detectors' reader lock, if any (a bigint key: high half in classid). */
    private static Optional<Long> detectorLockHolder(Connection db) throws SQLException {
        try (PreparedStatement statement = db.prepareStatement("select pid from pg_locks where locktype = 'advisory'"
                + " and granted and objsubid = 1 and classid = ? and objid = ?")) {
            statement.setLong(1, DETECTOR_LOCK >>> 32);
            statement.setLong(2, DETECTOR_LOCK & 0xffffffffL);
            try (ResultSet rs = statement.executeQuery()) {
                return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
            }
        }
    }

    private static long single(Connection db, String sql) throws SQLException {
        try (PreparedStatement statement = db.prepareStatement(sql); ResultSet rs = statement.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
