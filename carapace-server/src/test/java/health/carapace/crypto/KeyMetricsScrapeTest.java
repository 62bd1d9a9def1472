package health.carapace.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.OptionalDouble;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * {@code GET /admin/metrics} over real HTTPS: a scraper holding {@code view:metrics} sees the key
 * gauges with the values the key status has (active KEK version, encryptions, the DEK summary,
 * a finished job's rows), and never a patient id; callers without the permission get 403, and
 * without a token 401, both as OperationOutcomes, and the refusal is audited.
 */
class KeyMetricsScrapeTest extends IntegrationTest {

    private static final Pattern UUID_PATTERN =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    @Autowired
    KeyRotation rotation;

    @Test
    void aScraperWithViewMetricsSeesKeyStatusAndNoPatientId() {
        String scraper = tokenWithRoles("metrics-scraper", TestPolicy.METRICS);
        Patient patient = new Patient();
        patient.addName().setFamily("Metricsson");
        String patientId = fhirClient().create().resource(patient).execute().getId().getIdPart();
        Observation observation = new Observation();
        observation.setStatus(Observation.ObservationStatus.FINAL);
        observation.getCode().setText("pulse");
        observation.getSubject().setReference("Patient/" + patientId);
        fhirClient().create().resource(observation).execute();
        // A DEK rotation scoped to this patient: its job's scope names the patient, which must not show.
        UUID job = rotation.rotateDeks("test:metrics", UUID.fromString(patientId));
        assertThat(rotation.runJobs()).isTrue();

        KeyRotation.Status status = rotation.status();
        KeyRotation.Key activeKek = status.keys().stream()
                .filter(k -> k.kind().equals("kek") && k.state().equals("active")).findFirst().orElseThrow();
        KeyRotation.Job finished = status.jobs().stream().filter(j -> j.id().equals(job)).findFirst().orElseThrow();
        assertThat(finished.state()).isEqualTo("finished");
        assertThat(finished.done()).isGreaterThan(0);

        // Values are refreshed before a scrape, at most once a second: wait out a recent refresh.
        Awaitility.await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            String scrape = scrape(scraper);
            assertThat(value(scrape, "carapace_keys_state", "kind=\"kek\"", "state=\"active\"",
                    "version=\"" + activeKek.version() + "\"")).hasValue(1);
            assertThat(value(scrape, "carapace_keys_encryptions", "kind=\"kek\"", "state=\"active\"",
                    "version=\"" + activeKek.version() + "\"")).hasValue(activeKek.encryptions());
            assertThat(value(scrape, "carapace_keys_age_seconds", "kind=\"kek\"", "state=\"active\"").orElseThrow())
                    .isGreaterThanOrEqualTo(0);
            assertThat(value(scrape, "carapace_keys_state", "kind=\"index-root\"", "state=\"active\"")).hasValue(1);
            assertThat(value(scrape, "carapace_keys_encryptions", "kind=\"dek\"", "version=\"all\"").orElseThrow())
                    .as("most encryptions under any one data key").isGreaterThan(0);
            assertThat(value(scrape, "carapace_keys_warning", "kind=\"dek\"", "version=\"all\"")).hasValue(0);
            assertThat(value(scrape, "carapace_keys_encryption_warning_threshold"))
                    .hasValue(status.encryptionWarning());
            assertThat(value(scrape, "carapace_keys_dek_keysets").orElseThrow()).isGreaterThanOrEqualTo(1);
            assertThat(value(scrape, "carapace_keys_dek_keys").orElseThrow())
                    .isGreaterThanOrEqualTo(value(scrape, "carapace_keys_dek_keysets").orElseThrow());
            assertThat(value(scrape, "carapace_keys_dek_keys_over_warning")).hasValue(0);
            assertThat(value(scrape, "carapace_keys_job_last_done", "kind=\"rotate-deks\"", "state=\"finished\"")
                    .orElseThrow()).as("progress of the patient's DEK rotation").isEqualTo(finished.done());
            assertThat(scrape).as("scrape").doesNotContain(patientId).doesNotContain("Patient/");
            assertThat(UUID_PATTERN.matcher(scrape).find()).as("any UUID in the scrape").isFalse();
        });
    }

    @Test
    void withoutViewMetricsTheScrapeIsRefusedAndAudited() throws Exception {
        // The shared client holds every record permission, but not view:metrics.
        HttpResponse<String> forbidden = send(HttpRequest.newBuilder(uri("/admin/metrics")).GET());
        assertThat(forbidden.statusCode()).isEqualTo(403);
        Refusals.outcomeOf(forbidden);
        assertThat(forbidden.body()).doesNotContain("carapace_keys");

        HttpResponse<String> anonymous = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/metrics")).GET());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        Refusals.outcomeOf(anonymous);
        assertThat(anonymous.body()).doesNotContain("carapace_keys");

        // Only GET is opened, even to a scraper.
        String scraper = tokenWithRoles("metrics-scraper-post", TestPolicy.METRICS);
        HttpResponse<String> post = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/metrics"))
                .header("Authorization", "Bearer " + scraper).POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(post.statusCode()).isEqualTo(403);

        assertThat(auditEvents("/admin/metrics")).as("audited refusals of /admin/metrics")
                .filteredOn(event -> event.startsWith("denied:")).hasSizeGreaterThanOrEqualTo(3);
    }

    private String scrape(String token) {
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/metrics"))
                .header("Authorization", "Bearer " + token).GET());
        assertThat(response.statusCode()).as("scrape status").isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("").replace(" ", ""))
                .startsWith("text/plain;version=0.0.4");
        return response.body();
    }

    /** The value of the sample of {@code name} whose labels include every one of {@code labels}. */
    private static OptionalDouble value(String scrape, String name, String... labels) {
        Matcher line = Pattern.compile("(?m)^" + name + "(?:\\{([^}]*)\\})? (\\S+)$").matcher(scrape);
        while (line.find()) {
            String found = line.group(1) == null ? "" : line.group(1);
            if (List.of(labels).stream().allMatch(found::contains)) {
                return OptionalDouble.of(Double.parseDouble(line.group(2)));
            }
        }
        return OptionalDouble.empty();
    }

    private static List<String> auditEvents(String resource) throws Exception {
        String url = TestInstallation.properties().get("carapace.db.url").toString();
        try (var connection = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
            JdbcClient jdbc = JdbcClient.create(new SingleConnectionDataSource(connection, true));
            return jdbc.sql("select action || ':' || outcome from audit.event where convert_from(body, 'UTF8') like ?")
                    .param("%\"" + resource + "\"%").query(String.class).list();
        }
    }
}
