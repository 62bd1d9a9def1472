package health.carapace.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceApplication;
import health.carapace.audit.AuditVerifier;
import health.carapace.compliance.ComplianceReports;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.testing.TestInstallation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Issue 19's speed item: the full compliance report with 1,000,000 sealed audit events and
 * 100,000 patients' data keys, in under 5 s. Not part of the default build (tag "measurement"):
 * {@code ./mvnw -q -pl carapace-server -am test -Dcarapace.test.excluded-groups=none
 * -Dtest=ComplianceReportMeasurement -Dsurefire.failIfNoSpecifiedTests=false}; figures in
 * docs/BENCHMARKS.md. Events and keys are written by SQL (the keys' wrapped bytes are filler: the
 * report never unwraps a patient's key), then sealed by the real sealer and verified once by the
 * real verifier, whose recorded result is what the report reads.
 */
@Tag("measurement")
@SpringBootTest(classes = CarapaceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE)
@DirtiesContext
class ComplianceReportMeasurement {

    private static final int EVENTS = Integer.getInteger("events", 1_000_000);
    private static final int PATIENTS = Integer.getInteger("patients", 100_000);

    private static DevEnvironment installation;

    @Autowired
    TreeSealer sealer;

    @Autowired
    AuditVerifier verifier;

    @Autowired
    ComplianceReports reports;

    @Autowired
    health.carapace.signin.ServiceClients clients;

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        installation = TestInstallation.separate("compliance-speed");
        installation.properties().forEach((key, value) -> registry.add(key, () -> value));
    }

    @Test
    void measureTheReportOnAYearOfEvents() throws Exception {
        // The events belong to 20 real service clients, so the access review's usage queries find them.
        StringBuilder actors = new StringBuilder("array[");
        for (int i = 0; i < 20; i++) {
            actors.append(i == 0 ? "'" : ", '").append(clients.create("bench-" + i, java.util.Set.of("records-service"))
                    .clientId()).append('\'');
        }
        actors.append(']');
        long start = System.nanoTime();
        asSuperuser("""
                insert into audit.event (event_id, recorded_at, actor, action, outcome, patient, body)
                select id, at, actor, 'viewed', 'success', patient,
                       convert_to(json_build_object('id', id, 'timestamp', at, 'user', actor, 'action', 'viewed',
                           'resource', '/fhir/Patient/' || p, 'outcome', 'success', 'patient', patient)::text, 'UTF8')
                from (select gen_random_uuid() as id, now() - (n %% 365) * interval '1 day' as at,
                             (%s)[1 + n %% 20] as actor, gen_random_uuid() as p, n
                      from generate_series(1, %d) n) e, lateral (select 'Patient/' || e.p as patient) q
                """.formatted(actors, EVENTS));
        asSuperuser("""
                insert into keyring.wrapped_key (key_ref, kek_id, wrapped)
                select 'dek/Patient/' || gen_random_uuid(), (select key_id from keyring.key_version
                        where kind = 'kek' and state = 'active'), '\\x00'::bytea
                from generate_series(1, %d)""".formatted(PATIENTS));
        asSuperuser("""
                insert into keyring.dek_key (key_ref, key_id, encryptions)
                select key_ref, 1, 10 from keyring.wrapped_key where key_ref like 'dek/Patient/%'""");
        System.out.printf("MEASURED setup: %,d events and %,d patients' keys written in %.1f s%n", EVENTS, PATIENTS,
                (System.nanoTime() - start) / 1e9);

        long sealStart = System.nanoTime();
        long sealed = 0;
        for (var s = sealer.sealOnce(); s.isPresent(); s = sealer.sealOnce()) {
            sealed += s.get().newLeaves();
        }
        System.out.printf("MEASURED seal: %,d events in %.1f s%n", sealed, (System.nanoTime() - sealStart) / 1e9);
        long verifyStart = System.nanoTime();
        AuditVerifier.Report verified = verifier.verify();
        System.out.printf("MEASURED full audit verification (recorded for the report): %,d events in %.1f s, ok=%s%n",
                verified.eventsChecked(), (System.nanoTime() - verifyStart) / 1e9, verified.ok());
        assertThat(verified.ok()).isTrue();

        long firstStart = System.nanoTime();
        reports.evaluateAndStore(); // also class loading, the report key's first use
        System.out.printf("MEASURED first report, which computes and stores the 90-day access review: %.2f s%n",
                (System.nanoTime() - firstStart) / 1e9);
        double worst = 0;
        for (int run = 1; run <= 3; run++) {
            long reportStart = System.nanoTime();
            ComplianceReports.Stored stored = reports.evaluateAndStore();
            double seconds = (System.nanoTime() - reportStart) / 1e9;
            worst = Math.max(worst, seconds);
            JsonNode report = JsonMapper.builder().build().readTree(reports.render(stored, ComplianceReports.Format.JSON));
            StringBuilder slowest = new StringBuilder();
            report.get("checks").valueStream()
                    .sorted((a, b) -> Long.compare(b.get("millis").asLong(), a.get("millis").asLong())).limit(4)
                    .forEach(c -> slowest.append(c.get("id").asString()).append(' ').append(c.get("millis").asLong())
                            .append(" ms, "));
            System.out.printf("MEASURED report run %d: %.2f s (evaluate, sign, store); slowest checks: %s%n", run, seconds,
                    slowest);
        }
        assertThat(worst).as("seconds for the full report").isLessThan(5.0);
    }

    private static void asSuperuser(String sql) throws Exception {
        String url = installation.properties().get("carapace.db.url").toString();
        try (Connection c = DriverManager.getConnection(url, DevDatabase.OWNER, ""); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
