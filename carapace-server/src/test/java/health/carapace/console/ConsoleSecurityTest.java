package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditQueries;
import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.testing.TestPolicy;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The console as an outsider and as the wrong insider meet it, over plain HTTPS: how it signs in
 * (a registered app with PKCE, tokens kept server-side), what it answers without a session or with
 * an ended one, forged and stale CSRF tokens, each page and action behind its permission (refusals
 * audited), malformed filters (an error page that echoes nothing), stored text shown escaped, the
 * headers of every page, keyset paging, and the accounting of disclosures.
 */
class ConsoleSecurityTest extends ConsoleTesting {

    @org.springframework.beans.factory.annotation.Autowired
    private health.carapace.audit.AuditTrail trail;


    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private JdbcClient jdbc() {
        return JdbcClient.create(dataSource);
    }

    @Test
    void theConsoleSignsInAsARegisteredAppAndKeepsItsTokensOnTheServer() {
        ConsoleVisitor officer = enrolled("privacy-officer");
        HttpResponse<String> dashboard = officer.signIn();

        assertThat(dashboard.statusCode()).isEqualTo(200);
        assertThat(dashboard.body()).contains("Dashboard").contains(officer.user);
        List<String> cookies = officer.lastCallback.headers().allValues("Set-Cookie");
        assertThat(cookies).anySatisfy(cookie -> assertThat(cookie)
                .startsWith("__Host-carapace-console=").contains("Path=/").contains("Secure").contains("HttpOnly")
                .contains("SameSite=Lax"));
        // the browser holds a random key: no token reaches it, in a cookie or a page
        for (String cookie : cookies) {
            assertThat(cookie).doesNotContain("eyJ");
        }
        assertThat(dashboard.body()).doesNotContain("eyJ");
        // the server's copy is sealed: no token readable in the table either
        List<byte[]> sealed = jdbc().sql("select sealed from console.session").query((rs, n) -> rs.getBytes(1)).list();
        assertThat(sealed).isNotEmpty()
                .allSatisfy(row -> assertThat(new String(row, StandardCharsets.ISO_8859_1)).doesNotContain("eyJ"));
        // the console registered itself as a public sign-in app redirecting only to its callback
        assertThat(jdbc().sql("select redirect_uris from iam.login_app where client_id = ?").param(ConsoleApp.CLIENT_ID)
                .query((rs, n) -> List.of((String[]) rs.getArray(1).getArray())).single())
                .contains(baseUrl() + ConsoleApp.CALLBACK)
                // other nodes of this machine (other test installations) keep their own loopback callbacks
                .allSatisfy(uri -> assertThat(uri).startsWith("https://localhost:").endsWith(ConsoleApp.CALLBACK));
    }

    @Test
    void withoutASessionAPageViewStartsASignInAndAnythingElseIsRefused() {
        Incident incident = openIncident();
        ConsoleVisitor stranger = enrolled("privacy-officer");

        HttpResponse<String> page = stranger.get("/console/incidents/" + incident.id());
        assertThat(page.statusCode()).isEqualTo(302);
        assertThat(page.headers().firstValue("Location").orElseThrow())
                .startsWith(baseUrl() + "/oauth2/authorize?response_type=code&client_id=" + ConsoleApp.CLIENT_ID)
                .contains("code_challenge=").contains("code_challenge_method=S256").contains("state=");

        HttpResponse<String> action = stranger.post("/console/incidents/" + incident.id() + "/acknowledge",
                Map.of("_csrf", "guess"));
        assertThat(action.statusCode()).isEqualTo(401);
        assertRefusalPage(action, "session has ended");
        HttpResponse<String> partial = stranger.getHtmx("/console/audit?principal=someone");
        assertThat(partial.statusCode()).isEqualTo(401);
        assertThat(incidents.find(incident.id()).orElseThrow().state()).isEqualTo(IncidentState.OPEN);
        assertThat(events("anonymous", "denied")).anySatisfy(event -> assertThat(event.resource())
                .isEqualTo("/console/incidents/" + incident.id() + "/acknowledge"));

        // a callback that this browser did not start, or with another state, signs nobody in
        HttpResponse<String> forgedCallback = stranger.get(ConsoleApp.CALLBACK + "?code=" + "A".repeat(40) + "&state=x");
        assertThat(forgedCallback.statusCode()).isEqualTo(400);
        assertThat(forgedCallback.headers().allValues("Set-Cookie"))
                .noneMatch(cookie -> cookie.startsWith("__Host-carapace-console=") && !cookie.contains("Max-Age=0"));
    }

    @Test
    void anExpiredEndedOrRevokedSessionIsNoSession() {
        ConsoleVisitor officer = signedIn("privacy-officer");
        assertThat(officer.get("/console").statusCode()).isEqualTo(200);
        jdbc().sql("update console.session set idle_expires_at = now() - interval '1 second'").update();
        assertThat(officer.get("/console").statusCode()).as("idle past the timeout").isEqualTo(302);
        assertThat(officer.post("/console/sign-out", Map.of()).statusCode()).isIn(401, 403);

        ConsoleVisitor other = signedIn("privacy-officer");
        HttpResponse<String> page = other.get("/console");
        HttpResponse<String> signedOut = other.post("/console/sign-out", Map.of("_csrf", ConsoleVisitor.formCsrf(page.body())));
        assertThat(signedOut.statusCode()).isEqualTo(302);
        assertThat(other.get("/console/signed-out").body()).contains("signed out");
        assertThat(other.get("/console").statusCode()).as("after signing out").isEqualTo(302);
        assertThat(jdbc().sql("""
                select count(*) from iam.session s join iam.app_user u on u.id = s.user_id
                where u.user_name = ? and s.revoked_at is null""").param(other.user).query(Long.class).single())
                .as("the sign-in session ends with the console's").isZero();

        ConsoleVisitor revoked = signedIn("privacy-officer");
        jdbc().sql("update iam.session set revoked_at = now() where user_id = (select id from iam.app_user where user_name = ?)")
                .param(revoked.user).update();
        // the change reaches every node's cache through PostgreSQL's announcement: at once, not instantly
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> revoked.get("/console").statusCode() == 302);
    }

    @Test
    void aMissingForgedOrForeignCsrfTokenChangesNothing() {
        Incident incident = openIncident();
        ConsoleVisitor officer = signedIn("privacy-officer");
        ConsoleVisitor other = signedIn("privacy-officer");
        String path = "/console/incidents/" + incident.id();
        String foreign = ConsoleVisitor.formCsrf(other.get(path).body());

        for (Map<String, String> fields : List.of(Map.<String, String>of(), Map.of("_csrf", "forged-" + UUID.randomUUID()),
                Map.of("_csrf", foreign))) {
            HttpResponse<String> refused = officer.post(path + "/acknowledge", fields);
            assertThat(refused.statusCode()).isEqualTo(403);
            assertRefusalPage(refused, "did not come from the console");
        }
        assertThat(incidents.find(incident.id()).orElseThrow().state()).isEqualTo(IncidentState.OPEN);
        assertThat(events(officer.user, "denied")).hasSizeGreaterThanOrEqualTo(3);

        // htmx's way: the page's token in the X-CSRF-TOKEN header
        String token = ConsoleVisitor.metaCsrf(officer.get(path).body());
        HttpResponse<String> accepted = officer.browser.send(HttpRequest.newBuilder(URI.create(baseUrl() + path + "/acknowledge"))
                .header("X-CSRF-TOKEN", token).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("")));
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(302);
        assertThat(incidents.find(incident.id()).orElseThrow().state()).isEqualTo(IncidentState.ACKNOWLEDGED);
    }

    /** Every route refusing whoever lacks its permission: {@link ConsolePermissionTest}. One permission alone opens its pages. */
    @Test
    void viewAuditAloneOpensTheExplorerAndTheAuditCardOnly() {
        // view:audit alone: the explorer and the dashboard's audit card, not the incidents
        ConsoleVisitor auditor = signedIn(TestPolicy.AUDITOR);
        assertThat(auditor.get("/console").statusCode()).isEqualTo(200);
        assertThat(auditor.get("/console").body()).contains("Audit trail").doesNotContain("Open incidents");
        assertThat(auditor.get("/console/audit").statusCode()).isEqualTo(200);
        assertThat(auditor.get("/console/incidents").statusCode()).isEqualTo(403);
    }

    @Test
    void malformedFiltersGetAClearErrorPageThatEchoesNothing() {
        ConsoleVisitor officer = signedIn("privacy-officer");
        String payload = "<script>alert(1)</script>zq" + UUID.randomUUID().toString().substring(0, 8);
        String encoded = URLEncoder.encode(payload, StandardCharsets.UTF_8);
        for (String path : List.of(
                "/console/incidents?state=" + encoded,
                "/console/incidents?severity=" + encoded,
                "/console/incidents?" + encoded + "=1",
                "/console/incidents?state=open&state=closed",
                "/console/audit?patient=" + encoded,
                "/console/audit?principal=" + encoded,
                "/console/audit?from=" + encoded,
                "/console/audit?action=" + encoded,
                "/console/audit?after=" + encoded,
                "/console/audit?after=99999999999999999999.1",
                "/console/audit/disclosures?patient=" + encoded,
                "/console/audit/disclosures.csv?patient=" + encoded,
                "/console/audit?principal=%C3%28" + encoded)) {
            HttpResponse<String> refused = officer.get(path);
            assertThat(refused.statusCode()).as(path).isEqualTo(400);
            assertRefusalPage(refused, "malformed");
            assertThat(refused.body()).as(path).doesNotContain(payload.substring(payload.length() - 10))
                    .doesNotContain("<script>alert");
        }
        String pathPayload = "<img src=x onerror=alert(1)>" + payload.substring(payload.length() - 10);
        HttpResponse<String> notAnId = officer.get("/console/incidents/"
                + URLEncoder.encode(pathPayload, StandardCharsets.UTF_8).replace("+", "%20"));
        assertThat(notAnId.statusCode()).isEqualTo(404);
        assertRefusalPage(notAnId, "no such page");
        assertThat(notAnId.body()).doesNotContain(payload.substring(payload.length() - 10)).doesNotContain("<img src=x");
        assertThat(officer.get("/console/incidents/" + UUID.randomUUID()).statusCode()).isEqualTo(404);
    }

    @Test
    void textStoredByOthersIsShownEscaped() {
        // a search's query is stored (encrypted) as the client sent it, and the explorer shows it decrypted
        String marker = "zq" + UUID.randomUUID().toString().substring(0, 8);
        var searcher = client("console-xss-searcher", TestPolicy.EVERYTHING);
        String name = "<script>window.__carapaceXss='" + marker + "'</script><img src=x onerror=\"window.__carapaceXss='"
                + marker + "'\">";
        sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient?family=" + URLEncoder.encode(name, StandardCharsets.UTF_8)))
                .header("Authorization", "Bearer " + tokenFor(searcher.clientId(), searcher.clientSecret())).GET());
        ConsoleVisitor officer = signedIn("privacy-officer");

        HttpResponse<String> page = officer.get("/console/audit?principal=" + searcher.clientId() + "&action=searched");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains(marker).contains("&lt;script&gt;window.__carapaceXss")
                .doesNotContain("<script>window.__carapaceXss").doesNotContain("<img src=x");
    }

    @Test
    void everyPageIsUncachedUnframedAndUnderTheStrictPolicy() {
        Incident incident = openIncident();
        ConsoleVisitor officer = signedIn("privacy-officer");
        for (String path : List.of("/console", "/console/incidents", "/console/incidents/" + incident.id(), "/console/audit",
                "/console/audit?principal=" + officer.user, "/console/audit/disclosures", "/console/incidents?state=bad",
                "/console/drills", "/console/signed-out")) {
            HttpResponse<String> page = officer.get(path);
            assertThat(page.headers().allValues("Content-Security-Policy")).as(path).containsExactly(CSP);
            assertThat(page.headers().allValues("X-Frame-Options")).as(path).containsExactly("DENY");
            assertThat(page.headers().firstValue("Cache-Control").orElse("")).as(path).contains("no-store");
            assertThat(page.headers().firstValue("Content-Type").orElse("")).as(path).startsWith("text/html");
            assertThat(page.body()).as(path).doesNotContain("<style").doesNotContain(" style=")
                    .doesNotContainPattern("<script(?![^>]*\\bsrc=\"/assets/)").doesNotContain(" onclick=");
        }
        HttpResponse<String> script = officer.get("/assets/htmx-2.0.11.min.js");
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.headers().firstValue("Content-Type").orElse("")).contains("javascript");
    }

    @Test
    void theExplorerPagesByKeysetWithoutRepeatingOrSkippingAnEvent() {
        var clinician = client("console-paging", TestPolicy.CLINICIAN);
        String token = tokenFor(clinician.clientId(), clinician.clientSecret());
        for (int i = 0; i < 36; i++) { // 25 a page: a full page and 11 more
            sendWithoutToken(HttpRequest.newBuilder(uri("/admin/metrics")).header("Authorization", "Bearer " + token).GET());
        }
        ConsoleVisitor officer = signedIn("privacy-officer");
        HttpResponse<String> first = officer.get("/console/audit?principal=" + clinician.clientId() + "&action=denied");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(rows(first.body())).hasSize(25);
        Matcher next = Pattern.compile("hx-get=\"([^\"]+)\"").matcher(first.body());
        assertThat(next.find()).isTrue();
        HttpResponse<String> second = officer.getHtmx(next.group(1).replace("&amp;", "&"));
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.body()).doesNotContain("<html").contains("id=\"more\"").doesNotContain("hx-get=");
        assertThat(rows(second.body())).hasSize(11);
        assertThat(events(officer.user, "searched")).hasSizeGreaterThanOrEqualTo(2);
    }

    private static List<String> rows(String html) {
        Matcher rows = Pattern.compile("<tr>\\s*<td><time").matcher(html);
        List<String> found = new java.util.ArrayList<>();
        while (rows.find()) {
            found.add(rows.group());
        }
        return found;
    }

    @Test
    void theAccountingOfDisclosuresIsShownAndDownloadedAndItsReadingIsAudited() {
        String patient = createPatient();
        var reader = client("console-disclosure-reader", TestPolicy.EVERYTHING);
        sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient/" + patient))
                .header("Authorization", "Bearer " + tokenFor(reader.clientId(), reader.clientSecret())).GET());
        ConsoleVisitor officer = signedIn("privacy-officer");

        HttpResponse<String> page = officer.get("/console/audit/disclosures?patient=" + patient);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains(reader.clientId());
        HttpResponse<String> csv = officer.get("/console/audit/disclosures.csv?patient=" + patient);
        assertThat(csv.statusCode()).isEqualTo(200);
        assertThat(csv.headers().firstValue("Content-Type").orElse("")).startsWith("text/csv");
        assertThat(csv.headers().firstValue("Content-Disposition").orElse("")).contains("attachment");
        assertThat(csv.body()).startsWith("date,recipient,description,purpose\n").contains(reader.clientId())
                .contains("viewed /fhir/Patient/" + patient);
        assertThat(events(officer.user, "exported")).filteredOn(e -> ("Patient/" + patient).equals(e.patient()))
                .extracting(AuditQueries.StoredEvent::resource)
                .contains("/console/audit/disclosures", "/console/audit/disclosures.csv");
    }

    /**
     * A patient in long care has thousands of disclosures: the page shows the 25 most recent, newest
     * first, and says the CSV holds every one; the CSV does.
     */
    @Test
    void theAccountingPageShowsTheMostRecentWhileTheCsvHoldsThemAll() {
        String patient = "Patient/" + UUID.randomUUID();
        java.time.Instant now = java.time.Instant.now();
        List<health.carapace.audit.AuditEvent> views = new java.util.ArrayList<>();
        for (int i = 0; i < 130; i++) {
            views.add(new health.carapace.audit.AuditEvent(UUID.randomUUID(), now.minusSeconds(130 - i),
                    "long-care-reader-" + i + "-x", health.carapace.audit.AuditAction.VIEWED, "/fhir/" + patient,
                    health.carapace.audit.AuditContext.none(), true, patient, null, null, false, null));
        }
        trail.record(views);
        ConsoleVisitor officer = signedIn("privacy-officer");

        String page = officer.get("/console/audit/disclosures?patient=" + patient.substring("Patient/".length())).body();
        assertThat(page).contains("The 25 most recent disclosures; the CSV holds every one of the six years.");
        assertThat(rows(page)).hasSize(25);
        assertThat(page).contains("long-care-reader-129-x").contains("long-care-reader-105-x")
                .doesNotContain("long-care-reader-104-x").doesNotContain("long-care-reader-0-x");
        assertThat(page.indexOf("long-care-reader-129-x")).as("newest first").isLessThan(page.indexOf("long-care-reader-105-x"));

        String csv = officer.get("/console/audit/disclosures.csv?patient=" + patient.substring("Patient/".length())).body();
        for (int i = 0; i < 130; i++) {
            assertThat(csv).contains("long-care-reader-" + i + "-x");
        }
    }

    @Test
    void everyResponseActionOfTheApiIsOnTheIncidentPageAndAuditedAsTheApiAuditsIt() {
        Incident incident = openIncident();
        ConsoleVisitor officer = signedIn("privacy-officer");
        String page = "/console/incidents/" + incident.id();
        assertThat(officer.postFrom(page, page + "/risk", Map.of("phiInvolved", "CLINICAL", "recipient", "WORKFORCE_MEMBER",
                "acquisition", "VIEWED", "mitigation", "FULLY", "conclusion", "LOW_PROBABILITY_OF_COMPROMISE")).statusCode())
                .isEqualTo(302);
        assertThat(officer.postFrom(page, page + "/breach", Map.of("discoveredOn", java.time.LocalDate.now().toString(),
                "affected", "3", "residentsByState", "CA 2\nNY 1")).statusCode()).isEqualTo(302);
        HttpResponse<String> evidence = officer.postFrom(page, page + "/evidence", Map.of());
        assertThat(evidence.statusCode()).isEqualTo(200);
        assertThat(evidence.headers().firstValue("Content-Disposition").orElse("")).contains("attachment");
        assertThat(officer.postFrom(page, page + "/close", Map.of("state", "closed", "resolution", "false-positive"))
                .statusCode()).isEqualTo(302);

        Incident after = incidents.find(incident.id()).orElseThrow();
        assertThat(after.state()).isEqualTo(IncidentState.CLOSED);
        assertThat(after.risk()).isNotNull();
        assertThat(after.breach()).isNotNull();
        assertThat(after.timeline()).extracting(Incident.TimelineEntry::actor).contains(officer.user);
        assertThat(incidentThroughTheApi(incident.id()).body()).contains("\"state\":\"CLOSED\"");
        assertThat(events(officer.user, "admin_change")).isNotEmpty();
        HttpResponse<String> shown = officer.get(page + "?done=closed");
        assertThat(shown.body()).contains("id=\"notice\"").contains("Incident closed.");
        // a done= the console did not write shows no notice at all: not its text, raw or escaped
        String unknown = officer.get(page + "?done=" + URLEncoder.encode("<b>zq-done</b>", StandardCharsets.UTF_8)).body();
        assertThat(unknown).doesNotContain("id=\"notice\"").doesNotContain("zq-done");
    }

    @Test
    void theAdministratorWhoRequestedShreddingCannotApproveIt() {
        String patient = createPatient();
        ConsoleVisitor admin = signedIn("admin");
        assertThat(admin.postFrom("/console/keys", "/console/keys/shredding", Map.of("patient", patient, "reason",
                "RET-CONSOLE-2")).statusCode()).isEqualTo(302);
        UUID request = shredding.list().stream().filter(r -> r.patient().equals("Patient/" + patient)).findFirst()
                .orElseThrow().id();

        HttpResponse<String> own = admin.postFrom("/console/keys", "/console/keys/shredding/" + request + "/approve", Map.of());
        assertThat(own.statusCode()).isEqualTo(403);
        assertRefusalPage(own, "Dual control");
        assertThat(shredding.find(request).orElseThrow().state()).isEqualTo("pending");
        assertThat(send(HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).GET()).statusCode()).isEqualTo(200);
        assertThat(auditQueries.search(new AuditQueries.Criteria(null, admin.user, null, null, null, false, 50)))
                .anySatisfy(event -> assertThat(event.resource()).isEqualTo("/console/keys/shredding/" + request + "/approve"));

        HttpResponse<String> malformed = admin.postFrom("/console/keys", "/console/keys/shredding", Map.of("patient",
                "<script>x</script>", "reason", "Jane Doe's records"));
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.body()).doesNotContain("<script>x").doesNotContain("Jane Doe");
        ConsoleVisitor officer = signedIn("privacy-officer");
        assertThat(officer.get("/console/keys").statusCode()).as("manage:keys only").isEqualTo(403);
    }

    @org.springframework.beans.factory.annotation.Autowired
    private health.carapace.disposal.Shredding shredding;

    @Test
    void anEventsInclusionProofIsShownOnRequestCheckedAndItsViewingAudited() throws Exception {
        var clinician = client("console-proof", TestPolicy.CLINICIAN);
        sendWithoutToken(HttpRequest.newBuilder(uri("/admin/metrics"))
                .header("Authorization", "Bearer " + tokenFor(clinician.clientId(), clinician.clientSecret())).GET());
        UUID event = events(clinician.clientId(), "denied").get(0).id();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> proofs.inclusion(event).isPresent());
        ConsoleVisitor officer = signedIn("privacy-officer");

        HttpResponse<String> page = officer.get("/console/audit/events/" + event + "/proof");
        assertThat(page.statusCode()).isEqualTo(200);
        // checked again here, with carapace-verify's code, from what the page shows
        long leaf = Long.parseLong(between(page.body(), "id=\"leaf-index\">", "<"));
        long size = Long.parseLong(between(page.body(), "id=\"tree-size\">", "<"));
        String root = between(page.body(), "id=\"root-hash\">", "<");
        List<health.carapace.verify.MerkleHash> path = new java.util.ArrayList<>();
        Matcher hashes = Pattern.compile("<li><code>([0-9a-f]{64})</code></li>").matcher(page.body());
        while (hashes.find()) {
            path.add(health.carapace.verify.MerkleHash.fromHex(hashes.group(1)));
        }
        byte[] body = jdbc().sql("select body from audit.event where event_id = ?").param(event).query(byte[].class).single();
        health.carapace.verify.InclusionProof.of(leaf, size, path)
                .verify(health.carapace.verify.MerkleHash.ofLeaf(body), health.carapace.verify.MerkleHash.fromHex(root));
        assertThat(jdbc().sql("select count(*) from audit.tree_head where tree_size = ? and root_hash = ?")
                .params(size, health.carapace.verify.MerkleHash.fromHex(root).toByteArray()).query(Long.class).single())
                .as("the root is a signed tree head's").isEqualTo(1);
        assertThat(events(officer.user, "exported")).extracting(AuditQueries.StoredEvent::resource)
                .contains("/console/audit/events/" + event + "/proof");

        assertThat(officer.get("/console/audit/events/" + UUID.randomUUID() + "/proof").statusCode()).isEqualTo(404);
        ConsoleVisitor clinicianPerson = signedIn("clinician");
        assertThat(clinicianPerson.get("/console/audit/events/" + event + "/proof").statusCode()).isEqualTo(403);
    }

    @org.springframework.beans.factory.annotation.Autowired
    private health.carapace.audit.AuditProofs proofs;

    private static String between(String text, String start, String end) {
        int from = text.indexOf(start);
        assertThat(from).as("%s on the page", start).isNotNegative();
        from += start.length();
        return text.substring(from, text.indexOf(end, from));
    }

    @Test
    void theComplianceReportsSignedFileDownloadsAsStoredAndMalformedRequestsEchoNothing() {
        ConsoleVisitor admin = signedIn("admin");
        HttpResponse<String> evaluated = admin.postFrom("/console/compliance", "/console/compliance/evaluate", Map.of());
        assertThat(evaluated.statusCode()).isEqualTo(302);
        var latest = compliance.stored().get(compliance.stored().size() - 1);
        HttpResponse<String> signed = admin.get("/console/compliance/reports/" + latest.id() + "?format=signed");
        assertThat(signed.statusCode()).isEqualTo(200);
        assertThat(signed.body()).isEqualTo(new String(latest.signedFile(), StandardCharsets.UTF_8));
        assertThat(signed.headers().firstValue("Cache-Control").orElse("")).contains("no-store");
        HttpResponse<String> bad = admin.get("/console/compliance/reports/" + latest.id() + "?format=%3Cscript%3Ezq1");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).doesNotContain("zq1");
        assertThat(admin.get("/console/compliance/reports/" + UUID.randomUUID() + "?format=pdf").statusCode()).isEqualTo(404);
        assertThat(admin.post("/console/compliance/evaluate", Map.of()).statusCode()).as("no CSRF token").isEqualTo(403);
    }

    @org.springframework.beans.factory.annotation.Autowired
    private health.carapace.compliance.ComplianceReports compliance;

    @Test
    void anAdministratorManagesAccountsAndEachChangeIsAuditedAsThem() {
        ConsoleVisitor admin = signedIn("admin");
        String name = "console-made-" + UUID.randomUUID().toString().substring(0, 8);
        // accounts are not created through the console (one person must not become two): refused, nothing made
        HttpResponse<String> creating = admin.postFrom("/console/users", "/console/users",
                Map.of("userName", name, "roles", "clinician"));
        assertThat(creating.statusCode()).isEqualTo(405);
        assertThat(users.list()).noneSatisfy(user -> assertThat(user.userName()).isEqualTo(name));
        users.create(name, java.util.Set.of("clinician"), null);
        assertThat(admin.postFrom("/console/users", "/console/users/" + name + "/roles",
                Map.of("roles", "privacy-officer")).statusCode()).isEqualTo(302);
        assertThat(users.list()).anySatisfy(user -> {
            assertThat(user.userName()).isEqualTo(name);
            assertThat(user.roles()).containsExactly("privacy-officer");
        });
        ConsoleVisitor victim = signedIn("privacy-officer");
        assertThat(admin.postFrom("/console/users", "/console/users/" + victim.user + "/revoke-sessions", Map.of())
                .statusCode()).isEqualTo(302);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> victim.get("/console").statusCode() == 302);
        assertThat(admin.postFrom("/console/users", "/console/users/" + name + "/disable", Map.of()).statusCode())
                .isEqualTo(302);
        assertThat(users.list()).anySatisfy(user -> {
            assertThat(user.userName()).isEqualTo(name);
            assertThat(user.disabled()).isTrue();
        });
        List<AuditQueries.StoredEvent> changes = auditQueries.search(new AuditQueries.Criteria(null, admin.user, null, null,
                List.of("roles_changed", "session_revoked", "user_disabled"), true, 50));
        assertThat(changes).extracting(AuditQueries.StoredEvent::action)
                .contains("roles_changed", "session_revoked", "user_disabled");

        HttpResponse<String> unknownRole = admin.postFrom("/console/users", "/console/users/" + name + "/roles",
                Map.of("roles", "no-such-role"));
        assertThat(unknownRole.statusCode()).isEqualTo(400);
        // nobody changes their own roles, and nobody grants a permission they do not hold; both refusals audited
        long deniedBefore = deniedEvents(admin.user);
        assertThat(admin.postFrom("/console/users", "/console/users/" + admin.user + "/roles",
                Map.of("roles", "clinician")).statusCode()).isEqualTo(403);
        ConsoleVisitor manager = signedIn(health.carapace.testing.TestPolicy.USER_MANAGER);
        long managerDeniedBefore = deniedEvents(manager.user);
        assertThat(manager.postFrom("/console/users", "/console/users/" + victim.user + "/roles",
                Map.of("roles", "admin")).statusCode()).as("admin grants more than user-manager holds").isEqualTo(403);
        assertThat(users.list()).anySatisfy(user -> {
            assertThat(user.userName()).isEqualTo(victim.user);
            assertThat(user.roles()).containsExactly("privacy-officer");
        });
        assertThat(users.list()).anySatisfy(user -> {
            assertThat(user.userName()).isEqualTo(admin.user);
            assertThat(user.roles()).containsExactly("admin");
        });
        assertThat(deniedEvents(admin.user)).isEqualTo(deniedBefore + 1);
        assertThat(deniedEvents(manager.user)).isEqualTo(managerDeniedBefore + 1);
        assertThat(admin.postFrom("/console/users", "/console/users/nobody-here/disable", Map.of()).statusCode())
                .isEqualTo(404);
        ConsoleVisitor officer = signedIn("privacy-officer");
        assertThat(officer.get("/console/users").statusCode()).as("manage:users only").isEqualTo(403);
    }

    /** Review finding: another site's link must not make the console search or export in the officer's name. */
    @Test
    void aPageOpenedFromAnotherSiteIsNotRunAndAuditsNothing() {
        ConsoleVisitor officer = signedIn("privacy-officer");
        String patient = "Patient/" + UUID.randomUUID();
        for (String page : List.of("/console/audit?patient=" + patient, "/console/audit/disclosures?patient=" + patient)) {
            HttpResponse<String> lured = officer.getFromAnotherSite(page);
            assertThat(lured.statusCode()).as(page).isEqualTo(303);
            assertThat(lured.headers().firstValue("Location")).as(page).contains("/console");
            assertThat(lured.body()).doesNotContain(patient);
        }
        assertThat(jdbc().sql("select count(*) from audit.event where actor = ? and patient = ?").params(officer.user, patient)
                .query(Long.class).single()).isZero();
        // opened from the console itself (or a bookmark), the same search runs and is audited
        assertThat(officer.get("/console/audit?patient=" + patient).statusCode()).isEqualTo(200);
        assertThat(jdbc().sql("select count(*) from audit.event where actor = ? and patient = ?").params(officer.user, patient)
                .query(Long.class).single()).isPositive();
    }

    private long deniedEvents(String principal) {
        return jdbc().sql("select count(*) from audit.event where actor = ? and action = 'denied'").param(principal)
                .query(Long.class).single();
    }

    private static void assertRefusalPage(HttpResponse<String> response, String words) {
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(response.headers().allValues("Content-Security-Policy")).containsExactly(CSP);
        assertThat(response.headers().firstValue("Cache-Control").orElse("")).contains("no-store");
        assertThat(response.body()).contains("role=\"alert\"").contains(words);
    }
}
