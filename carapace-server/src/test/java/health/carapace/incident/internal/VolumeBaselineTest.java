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
    }

    private void seed(String principal, Instant hour, int patients) {
        for (int i = 0; i < patients; i++) {
            JdbcClient.create(dataSource).sql("insert into incident.hour_patient values (?, ?, ?)")
                    .params(principal, Timestamp.from(hour), "Patient/" + UUID.randomUUID()).update();
        }
    }

    /** One batch of {@code patients} reads of distinct new patients in {@code hour}. */
    private List<Detection> feed(VolumeDetector detector, String principal, Instant hour, int patients) {
        List<Detection> found = new ArrayList<>();
        for (int i = 0; i < patients; i++) {
            detector.inspect(new SealedEvent(leaf++, new StoredEvent(UUID.randomUUID(), hour.plusSeconds(i), principal,
                    "viewed", "/fhir/Patient", new AuditContext("127.0.0.1", null, null), true,
                    "Patient/" + UUID.randomUUID(), null, null, false, null, null)), found);
        }
        detector.endOfBatch(found);
        return found;
    }
}
