package health.carapace.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.CarapaceApplication;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.cli.Launcher;
import health.carapace.cli.ServerHandle;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Base64;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The start-dev promise, end to end through the launcher: data survives a restart, the embedded
 * database is durable, key files are private, and without the dev keystore nothing decrypts.
 */
class StartDevTest {

    private static final Launcher.Application APP = CarapaceApplication::run;

    @TempDir
    Path dataDir;

    @Test
    void dataSurvivesRestartAndIsUnreadableWithoutTheKeystore() throws Exception {
        String patientId;
        String clientId;
        String secret;
        try (ServerHandle server = Launcher.dev(dataDir, APP, "--server.port=0")) {
            JdbcClient jdbc = JdbcClient.create(server.context().getBean(DataSource.class));
            assertThat(jdbc.sql("show synchronous_commit").query(String.class).single()).isEqualTo("on");
            assertThat(jdbc.sql("show fsync").query(String.class).single()).isEqualTo("on");
            // the buffer cache sized from the machine, not PostgreSQL's 128 MB default (issue 13)
            assertThat(jdbc.sql("select setting::bigint * 8192 / 1048576 from pg_settings where name = 'shared_buffers'")
                    .query(Long.class).single()).isEqualTo(DevDatabase.sharedBuffersMib(DevDatabase.totalMemory()));

            ServiceClients.Credentials client = server.context().getBean(ServiceClients.class)
                    .create("start-dev-test", Set.of("records-service")); // a seeded dev role
            clientId = client.clientId();
            secret = client.clientSecret();
            String token = token(server, clientId, secret);
            HttpResponse<String> created = send(server, HttpRequest.newBuilder(uri(server, "/fhir/Patient"))
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Restartson\"}]}")));
            assertThat(created.statusCode()).isEqualTo(201);
            Matcher id = Pattern.compile("\"id\"\\s*:\\s*\"([0-9a-f-]{36})\"").matcher(created.body());
            assertThat(id.find()).isTrue();
            patientId = id.group(1);
        }

        Path keys = dataDir.resolve("keys");
        for (String file : new String[] {"kek.p12", "kek.passphrase"}) {
            assertThat(Files.getPosixFilePermissions(keys.resolve(file)))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        }
        assertThat(Files.getPosixFilePermissions(keys)).isEqualTo(Set.of(PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE));
        // Out of the box: the documented dev roles (docs/ACCESS.md), private to the developer.
        Path policy = dataDir.resolve("policy");
        assertThat(Files.getPosixFilePermissions(policy)).isEqualTo(Set.of(PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE));
        for (String role : new String[] {"admin", "clinician", "radiologist", "records-service"}) {
            assertThat(Files.getPosixFilePermissions(policy.resolve(role + ".json")))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        }

        try (ServerHandle server = Launcher.dev(dataDir, APP, "--server.port=0")) {
            HttpResponse<String> read = send(server, HttpRequest.newBuilder(uri(server, "/fhir/Patient/" + patientId))
                    .header("Authorization", "Bearer " + token(server, clientId, secret)).GET());
            assertThat(read.statusCode()).isEqualTo(200);
            assertThat(read.body()).contains("Restartson");
        }

        Files.delete(keys.resolve("kek.p12"));
        assertThatThrownBy(() -> Launcher.dev(dataDir, APP, "--server.port=0").close())
                .hasRootCauseInstanceOf(KeyUnavailableException.class)
                .rootCause().hasMessageContaining("dev keystore").hasMessageContaining("missing");
        assertThat(Files.exists(keys.resolve("kek.p12"))).as("no new KEK is made for a non-empty keyring").isFalse();
    }

    private static URI uri(ServerHandle server, String path) {
        int port = ((WebServerApplicationContext) server.context()).getWebServer().getPort();
        return URI.create("https://localhost:" + port + path);
    }

    private HttpResponse<String> send(ServerHandle server, HttpRequest.Builder request) throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(TestInstallation.trustingSslContext(dataDir)).build();
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String token(ServerHandle server, String clientId, String secret) throws Exception {
        String basic = Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> response = send(server, HttpRequest.newBuilder(uri(server, "/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
        assertThat(response.statusCode()).isEqualTo(200);
        Matcher m = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"").matcher(response.body());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }
}
