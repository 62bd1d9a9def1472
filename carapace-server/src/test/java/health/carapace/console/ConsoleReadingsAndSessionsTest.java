package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditProofs;
import health.carapace.audit.AuditQueries;
import health.carapace.incident.Evidence;
import health.carapace.incident.Incident;
import health.carapace.testing.RawHttp;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The console review's findings, each as an outsider or the wrong insider would meet it: a new
 * sign-in over a browser's old console session, the inclusion proof (recorded only when there is
 * one, and not made without limit), the explorer's decrypted queries (each one shown audited with
 * its patient), the evidence download (its API twin's custody headers, no copy left behind), and
 * the pages' scripts named by their content.
 */
class ConsoleReadingsAndSessionsTest extends ConsoleTesting {

    @Autowired
    private AuditProofs proofs;

    @Autowired
    private Evidence evidence;

    private JdbcClient jdbc() {
        return JdbcClient.create(dataSource);
    }

    @Test
    void aNewSignInEndsTheConsoleSessionTheBrowserAlreadyHeld() throws IOException {
        ConsoleVisitor first = signedIn("privacy-officer");
        String firstCookie = sessionCookie(first);
        assertThat(activeSignInSessions(first.user)).isEqualTo(1);
        long logoutsBefore = logouts(first.user);

        // a second person signs in in the same browser, which still holds the first one's console session
        ConsoleVisitor second = enrolled("privacy-officer");
        second.carriedOnCallback = firstCookie;
        assertThat(second.signIn().statusCode()).isEqualTo(200);

        RawHttp.Response replayed = raw("GET /console HTTP/1.1\r\nHost: localhost\r\nCookie: " + firstCookie
                + "\r\nConnection: close\r\n\r\n");
        assertThat(replayed.status()).as("the first person's console session is gone").isEqualTo(302);
        assertThat(replayed.header("location").orElse("")).startsWith(baseUrl() + "/oauth2/authorize?");
        assertThat(activeSignInSessions(first.user)).as("and their sign-in session with its refresh token").isZero();
        assertThat(logouts(first.user)).as("ended as a logout, audited").isEqualTo(logoutsBefore + 1);
        assertThat(second.get("/console").statusCode()).as("the new session works").isEqualTo(200);
        assertThat(activeSignInSessions(second.user)).isEqualTo(1);
    }

    @Test
    void anInclusionProofIsRecordedOnlyWhenThereIsOneAndIsNotMadeWithoutLimit() {
        ConsoleVisitor officer = signedIn("privacy-officer");
        UUID unknown = UUID.randomUUID();
        String unknownProof = "/console/audit/events/" + unknown + "/proof";
        assertThat(officer.get(unknownProof).statusCode()).isEqualTo(404);
        assertThat(exportedBy(officer.user, unknownProof)).as("nothing exported when there is no proof").isZero();

        UUID event = jdbc().sql("select event_id from audit.event order by id limit 1 offset 5").query(UUID.class).single();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> proofs.inclusion(event).isPresent());
        String proof = "/console/audit/events/" + event + "/proof";
        int shown = 0;
        int refused = 0;
        for (int i = 0; i < 25; i++) {
            HttpResponse<String> response = officer.get(proof);
            assertThat(response.statusCode()).isIn(200, 429);
            if (response.statusCode() == 200) {
                shown++;
            } else {
                refused++;
                assertThat(response.body()).contains("role=\"alert\"").contains("Too many");
            }
        }
        assertThat(shown).as("a person's proofs in a minute").isLessThanOrEqualTo(20).isPositive();
        assertThat(refused).isPositive();
        assertThat(exportedBy(officer.user, proof)).as("each proof shown is audited, no refused one").isEqualTo(shown);
        // another person is not held back by the first one's use
        assertThat(signedIn("privacy-officer").get(proof).statusCode()).isEqualTo(200);
    }

    @Test
    void eachDecryptedQueryTheExplorerShowsIsAuditedWithItsOwnPatient() {
        var searcher = client("console-query-searcher", TestPolicy.EVERYTHING);
        String token = tokenFor(searcher.clientId(), searcher.clientSecret());
        String patient = createPatient();
        String family = "Zqexplorer" + UUID.randomUUID().toString().substring(0, 8);
        for (String search : List.of("/fhir/Patient?family=" + family, "/fhir/Observation?patient=" + patient)) {
            assertThat(sendWithoutToken(HttpRequest.newBuilder(uri(search)).header("Authorization", "Bearer " + token)
                    .GET()).statusCode()).as(search).isEqualTo(200);
        }
        List<AuditQueries.StoredEvent> searches = auditQueries.search(new AuditQueries.Criteria(null,
                searcher.clientId(), null, null, List.of("searched"), null, 10));
        assertThat(searches).filteredOn(e -> e.query() != null).hasSizeGreaterThanOrEqualTo(2);

        ConsoleVisitor officer = signedIn("privacy-officer");
        HttpResponse<String> page = officer.get("/console/audit?principal=" + searcher.clientId() + "&action=searched");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains(family);
        for (AuditQueries.StoredEvent search : searches) {
            if (search.query() == null) {
                continue;
            }
            List<AuditQueries.StoredEvent> audited = auditQueries.search(new AuditQueries.Criteria(null, officer.user,
                            null, null, List.of("exported"), true, 200)).stream()
                    .filter(e -> e.resource().equals("/console/audit/events/" + search.id() + "/query")).toList();
            assertThat(audited).as("the shown query of %s", search.resource()).hasSize(1)
                    .allSatisfy(e -> assertThat(e.patient()).isEqualTo(search.patient()));
        }
    }

    @Test
    void theEvidenceDownloadCarriesItsCustodyHeadersAndLeavesNoCopyBehind() throws IOException {
        Incident incident = openIncident();
        ConsoleVisitor officer = signedIn("privacy-officer");
        Path scratch = Path.of(System.getProperty("java.io.tmpdir"));
        List<Path> before = bundlesIn(scratch);
        String page = "/console/incidents/" + incident.id();

        HttpResponse<String> download = officer.postFrom(page, page + "/evidence", Map.of());
        assertThat(download.statusCode()).isEqualTo(200);
        List<Evidence.Custody> custody = evidence.custody(incident.id());
        assertThat(custody).hasSize(1);
        Evidence.Custody made = custody.get(0);
        assertThat(made.madeBy()).isEqualTo(officer.user);
        assertThat(download.headers().firstValue("X-Evidence-Custody")).hasValue(made.id().toString());
        assertThat(download.headers().firstValue("X-Evidence-SHA256")).hasValue(made.bundleSha256());
        assertThat(download.headers().firstValue("X-Evidence-Manifest-SHA256")).hasValue(made.manifestSha256());
        assertThat(download.headers().firstValue("X-Evidence-Signing-Key")).hasValue(made.signingKeyId());
        assertThat(download.headers().firstValue("Content-Length")).hasValue(Long.toString(made.bundleBytes()));
        assertThat(download.headers().firstValue("Cache-Control").orElse("")).contains("no-store");
        assertThat(bundlesIn(scratch)).as("the scratch file is removed once sent").isEqualTo(before);
        // the hash the officer copies into the custody record is on the page too
        assertThat(officer.get(page).body()).contains(made.bundleSha256());
    }

    @Test
    void thePagesNameTheirScriptAndStylesheetByTheirContent() throws Exception {
        ConsoleVisitor officer = signedIn("privacy-officer");
        String html = officer.get("/console").body();
        for (String file : List.of("console.js", "carapace.css")) {
            Matcher linked = Pattern.compile("\"/assets/" + Pattern.quote(file) + "\\?v=([0-9a-f]{16})\"").matcher(html);
            assertThat(linked.find()).as("%s linked with its version", file).isTrue();
            try (InputStream in = getClass().getResourceAsStream("/static/assets/" + file)) {
                String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()), 0, 8);
                assertThat(linked.group(1)).as("%s: the version is the content's hash", file).isEqualTo(hash);
            }
            HttpResponse<String> served = officer.get("/assets/" + file + "?v=" + linked.group(1));
            assertThat(served.statusCode()).isEqualTo(200);
        }
        assertThat(html).doesNotContain("src=\"/assets/console.js\"").doesNotContain("href=\"/assets/carapace.css\"");
        // the error page too
        assertThat(signedIn(TestPolicy.CLINICIAN).get("/console/keys").body()).contains("/assets/carapace.css?v=");
    }

    /** Found attacking a running start-dev: malformed ids and a forged cookie at the callback, without a session. */
    @Test
    void withoutASessionMalformedIdsAndAForgedCookieAtTheCallbackGetNothingAndEchoNothing() throws IOException {
        long deniedBefore = jdbc().sql("select count(*) from audit.event where actor = 'anonymous' and action = 'denied'")
                .query(Long.class).single();
        for (String path : List.of("/console/incidents/%3Czq-id%3E/contain", "/console/keys/shredding/zq-id/approve",
                "/console/users/%3Cscript%3Ezq-id/roles")) {
            RawHttp.Response refused = raw("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
                    + "Connection: close\r\n\r\n");
            assertThat(refused.status()).as(path).isEqualTo(401);
            assertThat(refused.body()).as(path).doesNotContain("zq-id").contains("session has ended");
        }
        assertThat(jdbc().sql("select count(*) from audit.event where actor = 'anonymous' and action = 'denied'")
                .query(Long.class).single()).as("each refusal audited").isEqualTo(deniedBefore + 3);
        // a callback carrying someone's (here a forged) console cookie but no sign-in this browser started ends nothing
        ConsoleVisitor officer = signedIn("privacy-officer");
        RawHttp.Response callback = raw("GET " + ConsoleApp.CALLBACK + "?code=" + "A".repeat(24) + "&state=x HTTP/1.1\r\n"
                + "Host: localhost\r\nCookie: " + sessionCookie(officer) + "\r\nConnection: close\r\n\r\n");
        assertThat(callback.status()).isEqualTo(400);
        assertThat(officer.get("/console").statusCode()).as("the session it carried lives on").isEqualTo(200);
    }

    private static List<Path> bundlesIn(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("bundle-")
                    && f.getFileName().toString().endsWith(".evidence")).sorted().toList();
        }
    }

    private long logouts(String user) {
        return jdbc().sql("select count(*) from audit.event where actor = ? and action = 'logout'").param(user)
                .query(Long.class).single();
    }

    private long exportedBy(String principal, String resource) {
        return auditQueries.search(new AuditQueries.Criteria(null, principal, null, null, List.of("exported"), null, 500))
                .stream().filter(e -> e.resource().equals(resource)).count();
    }

    private long activeSignInSessions(String user) {
        return jdbc().sql("""
                select count(*) from iam.session s join iam.app_user u on u.id = s.user_id
                where u.user_name = ? and s.revoked_at is null""").param(user).query(Long.class).single();
    }

    private static String sessionCookie(ConsoleVisitor visitor) {
        return visitor.lastCallback.headers().allValues("Set-Cookie").stream()
                .filter(cookie -> cookie.startsWith("__Host-carapace-console=")).findFirst().orElseThrow()
                .split(";", 2)[0];
    }

    private RawHttp.Response raw(String request) throws IOException {
        try (SSLSocket socket = (SSLSocket) TestInstallation.trustingSslContext(TestInstallation.dataDir())
                .getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return RawHttp.read(socket.getInputStream());
        }
    }
}
