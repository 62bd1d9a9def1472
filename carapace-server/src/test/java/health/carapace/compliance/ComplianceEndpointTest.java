package health.carapace.compliance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.PhiScanner;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import health.carapace.verify.SignedReport;
import health.carapace.verify.VerificationException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code GET /admin/compliance} on the running server: every module's checks in one signed,
 * stored report; the formats; who may read it; every class of bad input refused before anything
 * is evaluated or stored, without echoing what was sent; no PHI in a report.
 */
class ComplianceEndpointTest extends IntegrationTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private String complianceToken() {
        return tokenWithRoles("compliance-" + UUID.randomUUID(), TestPolicy.COMPLIANCE);
    }

    private HttpResponse<String> get(String path, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).GET();
        return sendWithoutToken(token == null ? request : request.header("Authorization", "Bearer " + token));
    }

    private long storedReports() {
        return JdbcClient.create(dataSource).sql("select count(*) from compliance.report").query(Long.class).single();
    }

    @Test
    void theReportHasEveryModulesChecksAndIsStoredSigned() throws Exception {
        String token = complianceToken();
        long before = storedReports();

        HttpResponse<String> response = get("/admin/compliance", token);

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode report = JSON.readTree(response.body());
        assertThat(report.get("format").asString()).isEqualTo("carapace-compliance-report/1");
        List<String> ids = report.get("checks").valueStream().map(c -> c.get("id").asString()).toList();
        assertThat(ids).contains("crypto.kek-age", "crypto.key-usage", "crypto.kek-custody", "audit.verification",
                "audit.sealing", "signin.mfa", "signin.access-end", "signin.automatic-logoff", "signin.password-policy",
                "signin.access-review", "access.emergency-access", "platform.tls", "platform.database-tls",
                "inventory.known-weak", "scan.vulnerability", "contingency.backup", "incident.procedures",
                "incident.drills");
        for (JsonNode check : report.get("checks")) {
            assertThat(check.get("rules").size()).as(check.get("id").asString()).isPositive();
            assertThat(check.get("measuredAt").asString()).isNotBlank();
            if (!check.get("status").asString().equals("pass")) {
                assertThat(check.get("reason").asString()).as(check.get("id").asString()).isNotBlank();
            }
        }
        // every §164.312 standard and implementation specification appears in the rule table
        List<String> citations = report.get("rules").valueStream().map(r -> r.get("citation").asString()).toList();
        assertThat(citations).contains("§164.312(a)(2)(i)", "§164.312(a)(2)(ii)", "§164.312(a)(2)(iii)",
                "§164.312(a)(2)(iv)", "§164.312(b)", "§164.312(c)(2)", "§164.312(d)", "§164.312(e)(2)(i)",
                "§164.312(e)(2)(ii)");
        assertThat(report.get("inventory").get("sbom").get("components").size()).isGreaterThan(50);
        assertThat(report.get("inventory").get("assets").valueStream().map(a -> a.get("kind").asString()))
                .contains("application", "listener", "database", "keystore");
        assertThat(storedReports()).isEqualTo(before + 1);
        String id = response.headers().firstValue("X-Compliance-Report-Id").orElseThrow();
        assertThat(report.get("reportId").asString()).isEqualTo(id);
    }

    @Test
    void theTlsCheckSeesOnlyStrongTlsOnTheRealListener() throws Exception {
        JsonNode tls = JSON.readTree(get("/admin/compliance?check=platform.tls", complianceToken()).body())
                .get("checks").get(0);

        assertThat(tls.get("status").asString()).as(tls.toString()).isEqualTo("pass");
        assertThat(tls.get("evidence").get("negotiated by a default client").asString()).startsWith("TLSv1.3 TLS_");
        assertThat(tls.get("evidence").get("weak suites accepted").asString()).isEqualTo("(none)");
    }

    @Test
    void aSignedReportVerifiesOfflineWithThePublishedKeyAndAnEditedOneIsRefused() throws Exception {
        String token = complianceToken();
        byte[] signed = get("/admin/compliance?format=signed", token).body().getBytes(StandardCharsets.UTF_8);
        String pem = get("/admin/compliance/public-key", token).body();

        SignedReport.Verified verified = SignedReport.verify(signed, SignedReport.publicKeyFromPem(pem));
        JsonNode report = JSON.readTree(verified.report());
        String stored = get("/admin/compliance/reports/" + report.get("reportId").asString(), token).body();
        assertThat(stored.getBytes(StandardCharsets.UTF_8)).isEqualTo(signed);
        assertThat(get("/admin/compliance/reports", token).body()).contains(report.get("reportId").asString());
        // a failing check turned into a passing one by hand
        String edited = new String(signed, StandardCharsets.UTF_8).replaceFirst("\"status\" : \"fail\"", "\"status\" : \"pass\"");
        assertThat(edited).isNotEqualTo(new String(signed, StandardCharsets.UTF_8));
        assertThatThrownBy(() -> SignedReport.verify(edited.getBytes(StandardCharsets.UTF_8),
                SignedReport.publicKeyFromPem(pem))).isInstanceOf(VerificationException.class);
    }

    @Test
    void storedEvidenceCannotBeChangedOrRemoved() {
        get("/admin/compliance?check=signin.mfa", complianceToken());
        JdbcClient jdbc = JdbcClient.create(dataSource);
        for (String sql : List.of("update compliance.report set overall = 'pass'", "delete from compliance.report",
                "truncate compliance.report", "update compliance.scan set passed = true", "delete from compliance.scan",
                "update audit.verification set ok = true", "delete from audit.verification")) {
            assertThatThrownBy(() -> jdbc.sql(sql).update()).as(sql)
                    .isInstanceOf(org.springframework.dao.DataAccessException.class);
        }
    }

    @Test
    void reportsAreChainedByTheHashOfTheOneBefore() throws Exception {
        String token = complianceToken();
        String pem = get("/admin/compliance/public-key", token).body();
        byte[] first = SignedReport.verify(get("/admin/compliance?format=signed", token).body()
                .getBytes(StandardCharsets.UTF_8), SignedReport.publicKeyFromPem(pem)).report();
        byte[] second = SignedReport.verify(get("/admin/compliance?format=signed", token).body()
                .getBytes(StandardCharsets.UTF_8), SignedReport.publicKeyFromPem(pem)).report();

        String expected = java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(first));
        assertThat(JSON.readTree(second).get("previousReportSha256").asString()).isEqualTo(expected);
    }

    @Test
    void htmlAndPdfRenderTheSameReport() {
        String token = complianceToken();
        HttpResponse<String> html = get("/admin/compliance?format=html", token);
        assertThat(html.statusCode()).isEqualTo(200);
        assertThat(html.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
        assertThat(html.body()).contains("Carapace compliance report", "§164.312(a)(2)(iii)", "signin.mfa")
                .doesNotContain("<script");
        HttpResponse<byte[]> pdf;
        try {
            pdf = http().send(HttpRequest.newBuilder(uri("/admin/compliance?format=pdf"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        assertThat(pdf.statusCode()).isEqualTo(200);
        assertThat(pdf.headers().firstValue("Content-Type").orElseThrow()).isEqualTo("application/pdf");
        assertThat(new String(pdf.body(), 0, 5, StandardCharsets.US_ASCII)).isEqualTo("%PDF-");
    }

    @Test
    void filtersNarrowTheViewButTheStoredReportIsWhole() throws Exception {
        String token = complianceToken();
        JsonNode view = JSON.readTree(get("/admin/compliance?check=signin.mfa&check=crypto.kek-age", token).body());
        assertThat(view.get("checks").valueStream().map(c -> c.get("id").asString()))
                .containsExactlyInAnyOrder("signin.mfa", "crypto.kek-age");
        assertThat(view.get("filtered").asBoolean()).isTrue();
        JsonNode failing = JSON.readTree(get("/admin/compliance?status=fail", token).body());
        assertThat(failing.get("checks").valueStream().map(c -> c.get("status").asString())).containsOnly("fail");
    }

    @Test
    void onlyACallerHoldingViewComplianceMayReadReports() {
        assertThat(get("/admin/compliance", null).statusCode()).isEqualTo(401);
        assertThat(get("/admin/compliance/public-key", null).statusCode()).isEqualTo(401);
        String metricsOnly = tokenWithRoles("metrics-" + UUID.randomUUID(), TestPolicy.METRICS);
        assertThat(get("/admin/compliance", metricsOnly).statusCode()).isEqualTo(403);
        assertThat(get("/admin/compliance/reports", metricsOnly).statusCode()).isEqualTo(403);
        assertThat(get("/admin/compliance", token()).statusCode()).as("every record permission, not this one")
                .isEqualTo(403);
        String remote = tokenWithRoles("remote-" + UUID.randomUUID(), TestPolicy.REMOTE);
        assertThat(get("/admin/compliance", remote).statusCode()).isEqualTo(403);
        HttpResponse<String> post = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/compliance"))
                .header("Authorization", "Bearer " + complianceToken())
                .POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(post.statusCode()).as("only GET is routed").isIn(403, 405);
    }

    @Test
    void badFiltersAreRefusedWithoutEchoAndNothingIsStored() {
        String token = complianceToken();
        String canary = "zq" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        List<String> queries = List.of(
                "?check=" + canary + ".x",                        // unknown check id
                "?check=" + enc("<script>" + canary),             // malformed check id
                "?check=signin.mfa&check=" + canary + ".mfa",     // one known, one unknown
                "?status=" + canary,                               // unknown status
                "?status=PASS",                                    // wrong case
                "?format=" + canary,                               // unknown format
                "?format=json&format=html",                        // two formats
                "?format=signed&check=signin.mfa",                 // a signed report is whole
                "?" + canary + "=1",                               // unknown parameter
                "?check=" + enc("signin.mfa\u0000"));              // control character
        long before = storedReports();
        for (String query : queries) {
            HttpResponse<String> response = get("/admin/compliance" + query, token);
            assertThat(response.statusCode()).as(query).isEqualTo(400);
            OperationOutcome outcome = Refusals.outcomeOf(response);
            assertThat(outcome.getIssueFirstRep().getDiagnostics()).as(query).isNotBlank();
            assertThat(response.body()).as(query).doesNotContain(canary).doesNotContain("<script");
        }
        HttpResponse<String> notAnId = get("/admin/compliance/reports/" + canary, token);
        assertThat(notAnId.statusCode()).isEqualTo(400);
        assertThat(notAnId.body()).doesNotContain(canary);
        assertThat(get("/admin/compliance/reports/" + UUID.randomUUID(), token).statusCode()).isEqualTo(404);
        assertThat(get("/admin/compliance/reports?x=" + canary, token).statusCode()).isEqualTo(400);
        assertThat(storedReports()).as("nothing evaluated or stored for a refused request").isEqualTo(before);
    }

    @Test
    void forgedTokensForeignOriginsAndPathTricksGetNoReport() {
        String token = complianceToken();
        long before = storedReports();
        String[] parts = token.split("\\.");
        char last = parts[2].charAt(parts[2].length() - 2);
        String flipped = parts[0] + "." + parts[1] + "." + parts[2].substring(0, parts[2].length() - 2)
                + (last == 'A' ? 'B' : 'A') + parts[2].substring(parts[2].length() - 1);
        String unsigned = java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "." + parts[1] + ".";

        assertThat(get("/admin/compliance", flipped).statusCode()).isEqualTo(401);
        assertThat(get("/admin/compliance", unsigned).statusCode()).isEqualTo(401);
        assertThat(get("/admin/compliance", "not-a-jwt").statusCode()).isEqualTo(401);
        HttpResponse<String> foreign = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/compliance?check=signin.mfa"))
                .header("Authorization", "Bearer " + token).header("Origin", "https://evil.example").GET());
        assertThat(foreign.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        assertThat(get("/admin/compliance/..;/metrics", token).statusCode()).isEqualTo(400);
        assertThat(get("/admin/compliance/%2e%2e/metrics", token).statusCode()).isEqualTo(400);
        assertThat(get("/admin/Compliance", token).statusCode()).as("routes are case-sensitive; unknown is denied")
                .isIn(401, 403, 404);
        assertThat(get("/admin/compliance?check=signin%252Emfa", token).statusCode()).as("no double decoding")
                .isEqualTo(400);
        assertThat(storedReports()).as("only the one allowed request above stored a report").isEqualTo(before + 1);
    }

    @Test
    void anOddHostHeaderIsRefusedBeforeTheReport() throws Exception {
        long before = storedReports();
        try (var socket = (javax.net.ssl.SSLSocket) health.carapace.testing.TestInstallation
                .trustingSslContext(health.carapace.testing.TestInstallation.dataDir()).getSocketFactory()
                .createSocket("127.0.0.1", port)) {
            socket.getOutputStream().write(("GET /admin/compliance HTTP/1.1\r\nHost: evil.example\r\n"
                    + "Authorization: Bearer " + complianceToken() + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 421").doesNotContain("evil.example");
        }
        assertThat(storedReports()).isEqualTo(before);
    }

    @Test
    void aReportHoldsNoPhi() throws Exception {
        String family = "Canary" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String identifier = "MRN-" + UUID.randomUUID();
        HttpResponse<String> created = send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                        + family + "\"}],\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"" + identifier + "\"}]}")));
        assertThat(created.statusCode()).isEqualTo(201);
        String patientId = JSON.readTree(created.body()).get("id").asString();
        String token = complianceToken();

        String json = get("/admin/compliance", token).body();
        String html = get("/admin/compliance?format=html", token).body();
        List<byte[]> stored = JdbcClient.create(dataSource).sql("select signed from compliance.report")
                .query(byte[].class).list();
        String metrics = get("/admin/metrics", tokenWithRoles("m-" + UUID.randomUUID(), TestPolicy.METRICS)).body();

        List<String> canaries = List.of(family, identifier, patientId);
        assertThat(PhiScanner.inText("report JSON", json, canaries)).isEmpty();
        assertThat(PhiScanner.inText("report HTML", html, canaries)).isEmpty();
        for (byte[] report : stored) {
            assertThat(PhiScanner.inText("stored report", new String(report, StandardCharsets.UTF_8), canaries)).isEmpty();
        }
        assertThat(PhiScanner.inText("metrics", metrics, canaries)).isEmpty();
    }

    @Test
    void theRuleTableInTheDocsIsTheOneTheReportUses() throws Exception {
        String doc = java.nio.file.Files.readString(java.nio.file.Path.of("../docs/COMPLIANCE.md"));
        String table = doc.substring(doc.indexOf("<!-- rule-table:start -->"), doc.indexOf("<!-- rule-table:end -->"));
        List<String> documented = table.lines().filter(l -> l.startsWith("| ") && !l.startsWith("| citation")
                && !l.startsWith("| ---")).map(String::strip).toList();

        JsonNode report = JSON.readTree(get("/admin/compliance", complianceToken()).body());
        List<String> reported = report.get("rules").valueStream().map(r -> "| " + r.get("citation").asString() + " | "
                + r.get("title").asString() + " | " + String.join(", ", r.get("checks").valueStream()
                        .map(c -> "`" + c.asString() + "`").toList()) + " |").toList();

        assertThat(documented).containsExactlyElementsOf(reported);
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
