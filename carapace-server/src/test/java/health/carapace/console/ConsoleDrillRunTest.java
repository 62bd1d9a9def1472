package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.audit.AuditQueries;
import health.carapace.incident.Drills;
import health.carapace.testing.TestPolicy;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A drill run from the console's Drills page ({@code manage:incidents}): played by the service
 * {@code ./carapace drill run} calls, in the signed-in person's name (its audit events are the
 * CLI's, with the person as actor), in the background; its result is listed by the drill report
 * and shown on the page. One at a time; an unknown scenario or any other field is refused without
 * echo and starts nothing; without the permission the run is refused and audited.
 */
class ConsoleDrillRunTest extends ConsoleTesting {

    @Autowired
    private Drills drills;

    @Test
    void anOfficerRunsADrillItIsListedByTheReportAndAuditedAsTheirs() {
        ConsoleVisitor officer = signedIn("privacy-officer");
        Instant before = Instant.now().minusSeconds(1);

        HttpResponse<String> started = officer.postFrom("/console/drills", "/console/drills/run",
                Map.of("scenario", "vip-snooping"));
        assertThat(started.statusCode()).isEqualTo(302);
        assertThat(started.headers().firstValue("Location").orElse("")).endsWith("/console/drills?done=started");
        // one at a time: a second run while this one plays is refused, and starts nothing
        HttpResponse<String> second = officer.postFrom("/console/drills", "/console/drills/run",
                Map.of("scenario", "bulk-read"));
        assertThat(second.statusCode()).isEqualTo(409);

        awaitEnded(officer);
        // through the drill service's own report: the drill is stored and in the trend
        List<Drills.Result> mine = drills.report(Instant.now()).recent().stream()
                .filter(result -> !result.startedAt().isBefore(before)
                        && result.scenario() == Drills.Scenario.VIP_SNOOPING).toList();
        assertThat(mine).hasSize(1);
        assertThat(mine.get(0).outcome()).isEqualTo("contained");
        assertThat(drills.report(Instant.now()).recent()).noneMatch(result -> !result.startedAt().isBefore(before)
                && result.scenario() == Drills.Scenario.BULK_READ);
        // the person ran it: the drill's synthetic clients were made and disabled in their name, as the CLI's are
        assertThat(events(officer.user, "admin_change")).extracting(AuditQueries.StoredEvent::resource)
                .anySatisfy(resource -> assertThat(resource).startsWith("/admin/clients/drill-"));
        assertThat(JdbcClient.create(dataSource).sql("select run_by from incident.drill where id = ?")
                .param(mine.get(0).id()).query(String.class).single()).isEqualTo(officer.user);
        assertThat(officer.get("/console/drills").body()).contains("id=\"drills-table\"");
    }

    @Test
    void withoutManageIncidentsNoDrillRunsAndTheRefusalIsAudited() {
        ConsoleVisitor auditor = signedIn(TestPolicy.AUDITOR);
        String token = ConsoleVisitor.metaCsrf(auditor.get("/console").body());
        HttpResponse<String> refused = auditor.post("/console/drills/run", Map.of("_csrf", token, "scenario", "vip-snooping"));
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("role=\"alert\"").contains("permission");
        assertThat(events(auditor.user, "denied")).extracting(AuditQueries.StoredEvent::resource)
                .contains("/console/drills/run");
        // nothing was started in their name (a drill makes its synthetic clients as admin_change events)
        assertThat(events(auditor.user, "admin_change")).isEmpty();
        assertThat(auditor.get("/console/drills").statusCode()).as("view:incidents for the page").isEqualTo(403);
    }

    @Test
    void anUnknownScenarioOrAnyOtherFieldStartsNothingAndIsNotEchoed() {
        ConsoleVisitor officer = signedIn("privacy-officer");
        String canary = "zq" + UUID.randomUUID().toString().substring(0, 8);
        for (Map<String, String> fields : List.of(Map.of("scenario", canary), Map.of("scenario", "<script>" + canary),
                Map.<String, String>of(), Map.of("scenario", "VIP-SNOOPING"), Map.of("scenario", "vip-snooping", canary, "1"),
                Map.of("scenario", "vip-snooping", "role", "admin"))) {
            HttpResponse<String> refused = officer.postFrom("/console/drills", "/console/drills/run", fields);
            assertThat(refused.statusCode()).as(fields.toString()).isEqualTo(400);
            assertThat(refused.body()).contains("role=\"alert\"").doesNotContain(canary).doesNotContain("<script>");
        }
        assertThat(officer.get("/console/drills?done=" + URLEncoder.encode("<b>" + canary, StandardCharsets.UTF_8)).body())
                .doesNotContain(canary);
        assertThat(officer.get("/console/drills?x=" + canary).statusCode()).isEqualTo(400);
        // nothing started in this person's name
        assertThat(events(officer.user, "admin_change")).isEmpty();
    }

    /** Waits for the drill started from the console to end (the detectors' cadence decides how long). */
    static void awaitEnded(ConsoleVisitor person) {
        String page = await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .until(() -> person.get("/console/drills").body(),
                        body -> body.contains("id=\"run-state\"") && !body.contains("running: waiting"));
        assertThat(page).contains("ended: contained");
    }
}
