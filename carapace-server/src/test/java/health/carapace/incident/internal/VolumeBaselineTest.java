package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditFeed.SealedEvent;
import health.carapace.audit.AuditQueries.StoredEvent;
import health.carapace.testing.IntegrationTest;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The volume detector's statistic on the real database: a person is flagged above
 * {@code max(floor, mean + k·σ)} of their own 14-day hourly baseline, a service client above its
 * ceiling. Synthetic events (a baseline takes days to build through the server); the detector and
 * its tables are the real ones.
 */
class VolumeBaselineTest extends IntegrationTest {

    @Autowired
    Environment environment;

    private long leaf = 1_000_000_000L;

    @Test
    void aNewPersonIsJudgedByTheFloorAlone() {
        VolumeDetector detector = new VolumeDetector(dataSource, IncidentSettings.from(environment));
        String principal = "volume-new-" + UUID.randomUUID().toString().substring(0, 8);
        Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
        assertThat(feed(detector, principal, hour, 30)).as("30 patients: the floor").isEmpty();
        assertThat(feed(detector, principal, hour, 1)).as("the 31st").hasSize(1)
                .allSatisfy(d -> assertThat(d.detail()).isEqualTo("patients-per-hour:31"));
    }

    @Test
    void aPersonWithABaselineIsFlaggedAboveMeanPlusKSigma() {
        VolumeDetector detector = new VolumeDetector(dataSource, IncidentSettings.from(environment));
        String principal = "volume-busy-" + UUID.randomUUID().toString().substring(0, 8);
        Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
        // ten past hours: five with 40 patients, five with 60: mean 50, sigma 10, threshold 50 + 3*10 = 80
        for (int h = 1; h <= 10; h++) {
            seed(principal, hour.minus(Duration.ofHours(h * 5L)), h % 2 == 0 ? 40 : 60);
        }
        assertThat(feed(detector, principal, hour, 80)).as("80 patients").isEmpty();
        assertThat(feed(detector, principal, hour, 1)).as("81").hasSize(1);
    }

    @Test
    void aServiceClientIsJudgedByItsCeiling() {
        IncidentSettings defaults = IncidentSettings.from(environment);
        IncidentSettings ceilingOf40 = new IncidentSettings(defaults.pollInterval(), defaults.batchSize(),
                defaults.dedupWindow(), defaults.volumeK(), defaults.volumeFloor(), defaults.volumeBaselineDays(),
                defaults.volumeMinBaselineHours(), 40, defaults.unusualHoursMinHistory(),
                defaults.unusualHoursMaxShare(), ZoneId.of("UTC"), defaults.denialsCount(), defaults.denialsWindow(),
                defaults.credentialCount(), defaults.credentialWindow(), defaults.bulkReadPatients(),
                defaults.auditCheckInterval(), defaults.auditSealerStall(), defaults.auditWitnessGrace(),
                defaults.drillMaxAge(), defaults.autoContain());
        VolumeDetector detector = new VolumeDetector(dataSource, ceilingOf40);
        String client = "svc-" + UUID.randomUUID();
        Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
        assertThat(feed(detector, client, hour, 40)).as("above a person's floor, at the ceiling").isEmpty();
        assertThat(feed(detector, client, hour, 1)).hasSize(1);

        // over its ceiling, the hour is no longer counted (issue 13): each later batch is still detected
        assertThat(feed(detector, client, hour, 50)).as("a later batch of the flagged hour").hasSize(1)
                .allSatisfy(d -> assertThat(d.detail()).isEqualTo("patients-per-hour:41"));
        JdbcClient jdbc = JdbcClient.create(dataSource);
        assertThat(jdbc.sql("select count(*) from incident.hour_patient where principal = ?").param(client)
                .query(Long.class).single()).as("no rows for its later patients").isEqualTo(41L);
        assertThat(jdbc.sql("select patients from incident.hour_count where principal = ?").param(client)
                .query(Long.class).single()).as("the stored count says at least 41").isEqualTo(41L);
        // the next hour is counted afresh
        assertThat(feed(detector, client, hour.plus(Duration.ofHours(1)), 40)).isEmpty();
        assertThat(feed(detector, client, hour.plus(Duration.ofHours(1)), 1)).hasSize(1)
                .allSatisfy(d -> assertThat(d.detail()).isEqualTo("patients-per-hour:41"));
    }

    @Test
    void aPatientSeenAgainInTheSameHourIsCountedOnceAcrossBatches() {
        VolumeDetector detector = new VolumeDetector(dataSource, IncidentSettings.from(environment));
        String principal = "volume-again-" + UUID.randomUUID().toString().substring(0, 8);
        Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
        List<String> thirty = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            thirty.add("Patient/" + UUID.randomUUID());
        }
        assertThat(feed(detector, principal, hour, thirty)).isEmpty();
        assertThat(feed(detector, principal, hour, thirty)).as("the same 30 again, in a later batch").isEmpty();
        assertThat(feed(detector, principal, hour, 1)).as("a 31st patient").hasSize(1)
                .allSatisfy(d -> assertThat(d.detail()).isEqualTo("patients-per-hour:31"));
    }

    @Test
    void whoWasSeenIsKeptForTwoHoursOfTheTrailAndTheCountsForTheBaseline() {
        VolumeDetector detector = new VolumeDetector(dataSource, IncidentSettings.from(environment));
        String principal = "volume-prune-" + UUID.randomUUID().toString().substring(0, 8);
        Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
        feed(detector, principal, hour.minus(Duration.ofHours(3)), 5);
        feed(detector, principal, hour.minus(Duration.ofHours(1)), 6);

        feed(detector, principal, hour, 7);

        JdbcClient jdbc = JdbcClient.create(dataSource);
        assertThat(jdbc.sql("select hour_start, count(*) from incident.hour_patient where principal = ?"
                + " group by hour_start order by hour_start").param(principal)
                .query((rs, n) -> rs.getTimestamp(1).toInstant() + "=" + rs.getLong(2)).list())
                .as("three hours back is pruned once the trail reaches this hour")
                .containsExactly(hour.minus(Duration.ofHours(1)) + "=6", hour + "=7");
        assertThat(jdbc.sql("select patients from incident.hour_count where principal = ? order by hour_start")
                .param(principal).query(Long.class).list()).containsExactly(5L, 6L, 7L);
    }

    private void seed(String principal, Instant hour, int patients) {
        JdbcClient.create(dataSource).sql("insert into incident.hour_count values (?, ?, ?)")
                .params(principal, Timestamp.from(hour), patients).update();
    }

    /** One batch of {@code patients} reads of distinct new patients in {@code hour}. */
    private List<Detection> feed(VolumeDetector detector, String principal, Instant hour, int patients) {
        List<String> fresh = new ArrayList<>();
        for (int i = 0; i < patients; i++) {
            fresh.add("Patient/" + UUID.randomUUID());
        }
        return feed(detector, principal, hour, fresh);
    }

    /** One batch of reads of {@code patients} in {@code hour}. */
    private List<Detection> feed(VolumeDetector detector, String principal, Instant hour, List<String> patients) {
        List<Detection> found = new ArrayList<>();
        for (int i = 0; i < patients.size(); i++) {
            detector.inspect(new SealedEvent(leaf++, new StoredEvent(UUID.randomUUID(), hour.plusSeconds(i), principal,
                    "viewed", "/fhir/Patient", new AuditContext("127.0.0.1", null, null), true,
                    patients.get(i), null, null, false, null, null)), found);
        }
        detector.endOfBatch(found);
        return found;
    }
}
