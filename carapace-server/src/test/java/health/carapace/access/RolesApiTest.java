package health.carapace.access;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.platform.dev.DevDatabase;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * {@code /admin/roles} over real HTTPS: roles in the file format, validated like files, written
 * atomically into the policy directory, in force on the next request, audited; only for callers
 * whose role grants {@code manage:users} from where they are now.
 */
class RolesApiTest extends IntegrationTest {

    private final Path policyDir = Path.of(TestInstallation.properties().get("carapace.access.policy-dir").toString());
    private final String suffix = Fakes.letters(8).toLowerCase(Locale.ROOT);

    private String adminToken() {
        ServiceClients.Credentials admin = serviceClients.create("roles-admin", Set.of("admin"));
        return tokenFor(admin.clientId(), admin.clientSecret());
    }

    private HttpResponse<String> call(String token, String method, String path, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        request.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        return sendWithoutToken(request);
    }

    private static String auditor(String name, String ipRange) {
        return "{ \"role\": \"" + name + "\",\n  \"permissions\": [\"view:audit\"],\n"
                + "  \"constraints\": { \"ip_range\": [\"" + ipRange + "\"] } }\n";
    }

    @Test
    void anAdminCreatesReadsReplacesAndDeletesARoleAndEachChangeIsAudited() throws Exception {
        String admin = adminToken();
        String name = "auditor-" + suffix;
        String document = auditor(name, "127.0.0.0/8");

        HttpResponse<String> created = call(admin, "PUT", "/admin/roles/" + name, document);
        assertThat(created.statusCode()).isEqualTo(201);
        Path file = policyDir.resolve(name + ".json");
        assertThat(Files.readString(file)).isEqualTo(document);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (var files = Files.list(policyDir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }

        HttpResponse<String> read = call(admin, "GET", "/admin/roles/" + name, null);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.body()).isEqualTo(document);
        assertThat(call(admin, "GET", "/admin/roles", null).body()).contains("\"role\":\"" + name + "\"")
                .contains("\"role\":\"admin\"");

        String replaced = auditor(name, "::1/128").replace("view:audit", "view:audit\", \"view:directory");
        assertThat(call(admin, "PUT", "/admin/roles/" + name, replaced).statusCode()).isEqualTo(200);
        assertThat(Files.readString(file)).isEqualTo(replaced);

        assertThat(call(admin, "DELETE", "/admin/roles/" + name, null).statusCode()).isEqualTo(204);
        assertThat(file).doesNotExist();
        assertThat(call(admin, "GET", "/admin/roles/" + name, null).statusCode()).isEqualTo(404);
        assertThat(call(admin, "DELETE", "/admin/roles/" + name, null).statusCode()).isEqualTo(404);

        assertThat(auditEvents("/admin/roles/" + name)).containsExactly("admin_change:success", "admin_change:success",
                "admin_change:success");
    }

    @Test
    void anInvalidDocumentIsRefusedNamingFileRoleAndProblemAndNothingIsWritten() throws Exception {
        String admin = adminToken();
        String name = "broken-" + suffix;
        HttpResponse<String> refused = call(admin, "PUT", "/admin/roles/" + name,
                "{\"role\":\"" + name + "\",\"permissions\":[\"view:everything\", \"SSN 123-45-6789\"],"
                        + "\"constraints\":{\"temporal\":\"18:00-18:00 Mon-Fri\",\"ip_range\":[\"10.0.0.0/99\"]}}");
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.body()).contains("OperationOutcome")
                // named by its entry, not by what it says: the refusal repeats nothing of the document
                .contains(name + ".json: role \\\"" + name + "\\\": unknown permission (\\\"permissions\\\" entry 1)")
                .doesNotContain("view:everything")
                .contains("bad time window: the window is empty")
                .contains("bad CIDR in \\\"ip_range\\\" entry 1")
                .doesNotContain("6789");
        assertThat(policyDir.resolve(name + ".json")).doesNotExist();
        assertThat(auditEvents("/admin/roles/" + name)).containsExactly("admin_change:failure");

        assertThat(call(admin, "PUT", "/admin/roles/other-" + suffix, auditor(name, "127.0.0.0/8")).body())
                .contains("names another role");
        assertThat(call(admin, "PUT", "/admin/roles/Not%20A%20Name", auditor(name, "127.0.0.0/8")).statusCode())
                .isEqualTo(400);
        HttpResponse<String> notJson = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/roles/" + name))
                .header("Authorization", "Bearer " + admin).header("Content-Type", "text/plain")
                .PUT(HttpRequest.BodyPublishers.ofString(auditor(name, "127.0.0.0/8"))));
        assertThat(notJson.statusCode()).isEqualTo(415);
        HttpResponse<String> garbledType = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/roles/" + name))
                .header("Authorization", "Bearer " + admin).header("Content-Type", "not a media type")
                .PUT(HttpRequest.BodyPublishers.ofString(auditor(name, "127.0.0.0/8"))));
        assertThat(garbledType.statusCode()).isEqualTo(415);
        assertThat(garbledType.body()).contains("OperationOutcome").doesNotContain("not a media type");
    }

    @Test
    void onlyARoleGrantingManageUsersReachesTheRolesApi() {
        assertThat(call(null, "GET", "/admin/roles", null).statusCode()).isEqualTo(401);
        assertThat(call(token(), "GET", "/admin/roles", null).statusCode()).isEqualTo(403);
        ServiceClients.Credentials radiologist = serviceClients.create("roles-radiologist", Set.of("radiologist"));
        String radiologistToken = tokenFor(radiologist.clientId(), radiologist.clientSecret());
        HttpResponse<String> refused = call(radiologistToken, "PUT", "/admin/roles/radiologist",
                auditor("radiologist", "0.0.0.0/0"));
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("OperationOutcome");
        assertThat(call(radiologistToken, "DELETE", "/admin/roles/admin", null).statusCode()).isEqualTo(403);
        assertThat(policyDir.resolve("admin.json")).exists();
    }

    @Test
    void aRoleChangeAppliesToTheNextRequestAndASpoofedForwardedForDoesNotWidenIt() {
        String admin = adminToken();
        String name = "investigator-" + suffix;
        assertThat(call(admin, "PUT", "/admin/roles/" + name, auditor(name, "127.0.0.0/8")).statusCode()).isEqualTo(201);
        ServiceClients.Credentials investigator = serviceClients.create("roles-investigator", Set.of(name));
        String token = tokenFor(investigator.clientId(), investigator.clientSecret());
        String disclosures = "/admin/audit/disclosures?patient=" + UUID.randomUUID();
        // The test client connects over IPv4 or IPv6 loopback; allow both, then neither.
        assertThat(call(admin, "PUT", "/admin/roles/" + name, auditor(name, "127.0.0.0/8").replace("\"127.0.0.0/8\"",
                "\"127.0.0.0/8\", \"::1/128\"")).statusCode()).isEqualTo(200);
        assertThat(call(token, "GET", disclosures, null).statusCode()).isEqualTo(200);

        assertThat(call(admin, "PUT", "/admin/roles/" + name, auditor(name, "192.0.2.0/24")).statusCode()).isEqualTo(200);
        assertThat(call(token, "GET", disclosures, null).statusCode()).isEqualTo(403);
        // The peer (loopback) is not a trusted proxy: a forwarded-for header naming an allowed address is ignored.
        HttpResponse<String> spoofed = sendWithoutToken(HttpRequest.newBuilder(uri(disclosures))
                .header("Authorization", "Bearer " + token).header("X-Forwarded-For", "192.0.2.7").GET());
        assertThat(spoofed.statusCode()).isEqualTo(403);
        assertThat(spoofed.body()).doesNotContain("192.0.2.7");

        assertThat(call(admin, "DELETE", "/admin/roles/" + name, null).statusCode()).isEqualTo(204);
        assertThat(call(token, "GET", disclosures, null).statusCode()).isEqualTo(403);
    }

    private List<String> auditEvents(String resource) throws Exception {
        String url = TestInstallation.properties().get("carapace.db.url").toString();
        try (var connection = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
            JdbcClient jdbc = JdbcClient.create(new org.springframework.jdbc.datasource.SingleConnectionDataSource(connection, true));
            return jdbc.sql("select action || ':' || outcome from audit.event where convert_from(body, 'UTF8') like ? order by id")
                    .param("%\"" + resource + "\"%").query(String.class).list();
        }
    }
}
