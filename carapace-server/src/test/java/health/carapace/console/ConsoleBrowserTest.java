package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.audit.AuditQueries;
import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.testing.TestPolicy;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * The console in a real browser (headless Chromium): a person signs in with password and TOTP
 * through the console's redirect, visits every page (each checked with axe-core: no serious or
 * critical violation, no CSP violation in the browser's console; screenshots for docs/CONSOLE.md),
 * acknowledges and contains an incident, downloads a patient's accounting of disclosures, records a
 * break-glass review, runs a drill, disables an account and a service client, and each result is
 * checked through the API. Script stored in the trail never runs. A person without the
 * permissions is refused on the page.
 */
class ConsoleBrowserTest extends ConsoleTesting {

    private static final Path IMAGES = Path.of("..", "docs", "images");

    @Test
    void anAdministratorSignsInVisitsEveryPageAndActsOnEach() throws Exception {
        ConsoleChromium.require();
        Incident incident = openIncident();
        String patient = createPatient();
        var reader = client("console-browser-reader", TestPolicy.EVERYTHING);
        String readerToken = tokenFor(reader.clientId(), reader.clientSecret());
        sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient/" + patient))
                .header("Authorization", "Bearer " + readerToken).GET());
        String marker = "zq" + UUID.randomUUID().toString().substring(0, 8);
        String stored = "<script>window.__carapaceXss='" + marker + "'</script><img src=x onerror=\"window.__carapaceXss='"
                + marker + "'\">";
        sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient?family=" + URLEncoder.encode(stored, StandardCharsets.UTF_8)))
                .header("Authorization", "Bearer " + readerToken).GET());
        ConsoleVisitor admin = enrolled("admin");
        // the last outside scan, as ./carapace compliance scan records it
        compliance.recordScan(new health.carapace.compliance.ComplianceReports.Scan(java.time.Instant.now(),
                "https://127.0.0.1:" + port, true, 0, "console browser test"));
        // an emergency access, ended, awaiting its review by someone other than its holder
        UUID grant = endedBreakGlassGrant();
        // a service client to disable from the Users page
        var feed = client("console-browser-feed", TestPolicy.EVERYTHING);

        try (ConsoleChromium chromium = new ConsoleChromium()) {
            signIn(chromium, admin);
            assertThat(chromium.text(By.tagName("h1"))).isEqualTo("Dashboard");
            assertThat(chromium.text(By.id("open-incidents-table"))).contains("self-access");
            assertThat(chromium.text(By.id("scan-result"))).isEqualTo("passed the gate");
            assertThat(chromium.text(By.id("scan-findings"))).isEqualTo("0");
            checkPage(chromium, "dashboard");

            chromium.open(baseUrl() + "/console/incidents");
            assertThat(chromium.text(By.id("incidents-table"))).contains(incident.principal());
            checkPage(chromium, "incidents");

            chromium.open(baseUrl() + "/console/incidents/" + incident.id());
            checkPage(chromium, "incident");
            chromium.click(By.id("acknowledge"));
            chromium.awaitText(By.id("notice"), "Incident acknowledged.");
            assertThat(incidents.find(incident.id()).orElseThrow().state()).isEqualTo(IncidentState.ACKNOWLEDGED);
            chromium.click(By.id("disable"));
            chromium.click(By.id("apply-containment"));
            chromium.awaitText(By.id("notice"), "Containment applied.");
            assertThat(chromium.text(By.id("incident-state"))).isEqualTo("contained");
            // through the API: the incident is contained by this person, and its principal can no longer act
            assertThat(incidentThroughTheApi(incident.id()).body()).contains("\"state\":\"CONTAINED\"");
            assertThat(incidents.find(incident.id()).orElseThrow().timeline())
                    .anySatisfy(entry -> assertThat(entry.actor()).isEqualTo(admin.user));

            chromium.open(baseUrl() + "/console/audit?principal=" + reader.clientId());
            assertThat(chromium.find(By.cssSelector("table.audit-page")).getText()).contains(marker);
            assertThat(chromium.driver.executeScript("return window.__carapaceXss === undefined")).as("stored script ran")
                    .isEqualTo(true);
            checkPage(chromium, "audit");

            chromium.open(baseUrl() + "/console/audit/disclosures");
            chromium.type(By.id("patient"), patient);
            chromium.click(By.id("show-disclosures"));
            assertThat(chromium.text(By.id("disclosures-table"))).contains(reader.clientId());
            checkPage(chromium, "disclosures");
            chromium.click(By.id("download-csv"));
            Path csv = chromium.downloads.resolve("disclosures-" + patient + ".csv");
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(csv) && Files.size(csv) > 0);
            assertThat(Files.readString(csv)).contains(reader.clientId()).contains("viewed /fhir/Patient/" + patient);
            assertThat(events(admin.user, "exported")).extracting(AuditQueries.StoredEvent::resource)
                    .contains("/console/audit/disclosures.csv");

            chromium.open(baseUrl() + "/console/access-review");
            assertThat(chromium.text(By.tagName("h1"))).isEqualTo("Access review");
            checkPage(chromium, "access-review");
            chromium.click(By.id("review-" + grant));
            chromium.awaitText(By.id("notice"), "Review recorded");
            // through the API: the grant is reviewed by this person
            assertThat(accessReviewThroughTheApi()).contains("\"grant\":\"" + grant + "\"")
                    .contains("\"reviewedBy\":\"" + admin.user + "\"");

            java.time.Instant drillFrom = java.time.Instant.now().minusSeconds(1);
            chromium.open(baseUrl() + "/console/drills");
            assertThat(chromium.text(By.tagName("h1"))).isEqualTo("Drills");
            new org.openqa.selenium.support.ui.Select(chromium.find(By.id("scenario"))).selectByValue("credential-attack");
            chromium.click(By.id("run-drill-button"));
            chromium.awaitText(By.id("notice"), "Drill started");
            // through the drill service's report: the drill run from the page is stored
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> drills.report(java.time.Instant.now()).recent().stream().anyMatch(result ->
                            result.scenario() == health.carapace.incident.Drills.Scenario.CREDENTIAL_ATTACK
                                    && !result.startedAt().isBefore(drillFrom)));
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                chromium.open(baseUrl() + "/console/drills");
                return !chromium.text(By.id("run-state")).startsWith("running");
            });
            assertThat(chromium.text(By.id("run-state"))).isEqualTo("ended: contained");
            assertThat(chromium.text(By.id("drills-table"))).contains("credential-attack");
            checkPage(chromium, "drills");

            int reportsBefore = compliance.stored().size();
            chromium.open(baseUrl() + "/console/compliance");
            chromium.click(By.id("evaluate"));
            chromium.awaitText(By.id("notice"), "A new report was evaluated");
            assertThat(compliance.stored()).hasSize(reportsBefore + 1);
            checkPage(chromium, "compliance");

            ConsoleVisitor leaver = enrolled("clinician");
            chromium.open(baseUrl() + "/console/users");
            checkPage(chromium, "users");
            // accounts are listed 25 a page: the administrator finds the leaver by name
            chromium.type(By.id("name"), leaver.user);
            chromium.click(By.id("find-users"));
            chromium.awaitQuery("name=" + leaver.user);
            chromium.click(By.id("disable-" + leaver.user));
            chromium.awaitText(By.id("notice"), "Account disabled");
            assertThat(users.list()).anySatisfy(user -> {
                assertThat(user.userName()).isEqualTo(leaver.user);
                assertThat(user.disabled()).isTrue();
            });
            chromium.click(By.id("disable-client-" + feed.clientId()));
            chromium.awaitText(By.id("notice"), "Service client disabled");
            // through the API: the disabled client's next token request is refused
            assertThat(clientCredentials(feed.clientId(), feed.clientSecret()).statusCode()).isEqualTo(401);

            chromium.click(By.cssSelector("header form button"));
            chromium.awaitPath("/console/signed-out");
            assertThat(chromium.text(By.id("signed-out"))).contains("signed out");
        }
        // everything the console recorded keeps the trail verifiable
        var verified = auditVerifier.verify();
        assertThat(verified.ok()).as("audit verification: %s", verified.firstProblem()).isTrue();
    }

    @org.springframework.beans.factory.annotation.Autowired
    private health.carapace.audit.AuditVerifier auditVerifier;

    @org.springframework.beans.factory.annotation.Autowired
    private health.carapace.incident.Drills drills;

    /** A break-glass grant of a client, opened and closed: awaiting review. */
    private UUID endedBreakGlassGrant() {
        var holder = client("console-browser-holder", TestPolicy.CLINICIAN, "privacy-officer");
        String token = tokenFor(holder.clientId(), holder.clientSecret());
        String patient = createPatient();
        for (String operation : List.of("$break-glass", "$break-glass-close")) {
            String body = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patient\",\"valueReference\":"
                    + "{\"reference\":\"Patient/" + patient + "\"}}" + (operation.endsWith("close") ? ""
                    : ",{\"name\":\"reason\",\"valueString\":\"Synthetic emergency for the console's screenshot\"}") + "]}";
            assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/" + operation))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))).statusCode()).as(operation).isEqualTo(200);
        }
        return org.springframework.jdbc.core.simple.JdbcClient.create(dataSource)
                .sql("select grant_id from iam.break_glass where principal = ?").param(holder.clientId())
                .query(UUID.class).single();
    }

    private String accessReviewThroughTheApi() {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/admin/access-review"))
                .header("Authorization", "Bearer " + officer()).GET()).body();
    }

    private java.net.http.HttpResponse<String> clientCredentials(String clientId, String secret) {
        String basic = java.util.Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8));
        return sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token")).header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
    }

    @Test
    void aPersonWithoutThePermissionsIsRefusedOnThePageAndTheRefusalIsAudited() throws Exception {
        ConsoleChromium.require();
        ConsoleVisitor clinician = enrolled("clinician");
        try (ConsoleChromium chromium = new ConsoleChromium()) {
            signIn(chromium, clinician);
            assertThat(chromium.text(By.tagName("h1"))).isEqualTo("Not allowed");
            assertThat(chromium.text(By.id("refusal"))).contains("permission");
            assertThat(chromium.seriousAccessibilityViolations()).isEmpty();
            chromium.screenshot(IMAGES.resolve("console-refused.png"));
            chromium.open(baseUrl() + "/console/audit");
            assertThat(chromium.text(By.tagName("h1"))).isEqualTo("Not allowed");
        }
        assertThat(events(clinician.user, "denied")).extracting(AuditQueries.StoredEvent::resource)
                .contains("/console", "/console/audit");
    }

    @Test
    void aSecondAdministratorApprovesAShreddingRequestAndTheRecordsAreGone() throws Exception {
        ConsoleChromium.require();
        String patient = createPatient();
        ConsoleVisitor requester = signedIn("admin");
        assertThat(requester.postFrom("/console/keys", "/console/keys/shredding",
                java.util.Map.of("patient", patient, "reason", "RET-CONSOLE-1")).statusCode()).isEqualTo(302);
        UUID request = shredding.list().stream().filter(r -> r.patient().equals("Patient/" + patient)).findFirst()
                .orElseThrow().id();
        ConsoleVisitor approver = enrolled("admin");
        try (ConsoleChromium chromium = new ConsoleChromium()) {
            signIn(chromium, approver);
            chromium.open(baseUrl() + "/console/keys");
            assertThat(chromium.text(By.id("state-" + request))).isEqualTo("pending");
            checkPage(chromium, "keys");
            chromium.click(By.id("approve-" + request));
            chromium.awaitText(By.id("notice"), "Shredding approved");
        }
        // through the API: the request is decided by the second administrator, and the records are gone
        var decided = shredding.find(request).orElseThrow();
        assertThat(decided.decidedBy()).isEqualTo(approver.user);
        assertThat(decided.state()).isIn("approved", "executed");
        assertThat(send(HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).GET()).statusCode()).isEqualTo(410);
    }

    @org.springframework.beans.factory.annotation.Autowired
    private health.carapace.disposal.Shredding shredding;

    @org.springframework.beans.factory.annotation.Autowired
    private health.carapace.compliance.ComplianceReports compliance;

    /** Password and TOTP on the sign-in pages, in the browser, starting from the console. */
    private void signIn(ConsoleChromium chromium, ConsoleVisitor person) {
        chromium.open(baseUrl() + "/console");
        chromium.awaitPath("/login");
        chromium.type(By.name("username"), person.user);
        chromium.type(By.name("password"), ConsoleVisitor.PASSWORD);
        chromium.click(By.cssSelector("form button[type=submit]"));
        chromium.awaitPath("/login/mfa");
        chromium.type(By.name("code"), person.browser.nextCode(person.browser.secret));
        chromium.click(By.cssSelector("form button[type=submit]"));
        chromium.awaitPath("/console");
    }

    /** What the pages' checks found; asserted empty at the end of each test, so one run reports every page. */
    private final List<String> problems = new java.util.ArrayList<>();

    private void checkPage(ConsoleChromium chromium, String name) throws Exception {
        chromium.seriousAccessibilityViolations().forEach(violation -> problems.add(name + ": axe " + violation));
        chromium.consoleErrors().stream().filter(message -> message.contains("Content Security Policy"))
                .forEach(message -> problems.add(name + ": " + message));
        chromium.screenshot(IMAGES.resolve("console-" + name + ".png"));
    }

    @org.junit.jupiter.api.AfterEach
    void noPageHadAProblem() {
        assertThat(problems).as("axe-core (serious, critical) and CSP violations on the pages").isEmpty();
    }
}
