package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.RawHttp;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * The routes this change added, attacked as an outsider would (the same attacks were run by hand
 * against {@code ./carapace start-dev}): the family-name route and role suspension through the
 * containment route, with no token, a forged one, a records role, another Host, path tricks and
 * bytes that are not UTF-8. Each is refused with an OperationOutcome that echoes nothing sent and
 * changes nothing.
 */
class NewContainmentRoutesAttackTest extends IncidentTesting {

    private static final String CANARY = "JaneCanaryDoe";

    private RawHttp.Response raw(String head, byte[] body) throws IOException {
        try (SSLSocket socket = (SSLSocket) TestInstallation.trustingSslContext(TestInstallation.dataDir())
                .getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write((head + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            return RawHttp.read(socket.getInputStream());
        }
    }

    @Test
    void theFamilyNameRouteRefusesOutsidersOddHostsPathsAndBytesWithoutEcho() throws IOException {
        ServiceClients.Credentials target = client("family-attacked", TestPolicy.EVERYTHING);
        String path = "/admin/privacy/principals/" + target.clientId() + "/family-name";
        String body = "{\"familyName\":\"" + CANARY + "\"}";
        assertThat(sendWithoutToken(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body))).statusCode()).isEqualTo(401);
        assertThat(putJson("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", path, body).statusCode()).isEqualTo(401);
        HttpResponse<String> records = putJson(token(), path, body);
        assertThat(records.statusCode()).isEqualTo(403);
        assertThat(records.body()).doesNotContain(CANARY);

        String auth = "Authorization: Bearer " + officer();
        RawHttp.Response otherHost = raw("PUT " + path + " HTTP/1.1\r\nHost: " + CANARY + ".example\r\n"
                + "Content-Type: application/json\r\n" + auth, body.getBytes(StandardCharsets.UTF_8));
        assertThat(otherHost.status()).isEqualTo(421);
        assertThat(otherHost.body()).doesNotContain(CANARY);
        RawHttp.Response encoded = raw("PUT /admin/privacy/principals/x%2F..%2F" + CANARY + "/family-name HTTP/1.1\r\n"
                + "Host: localhost\r\nContent-Type: application/json\r\n" + auth, body.getBytes(StandardCharsets.UTF_8));
        assertThat(encoded.status()).isEqualTo(400);
        assertThat(encoded.body()).doesNotContain(CANARY);
        byte[] notUtf8 = {'{', '"', 'f', 'a', 'm', 'i', 'l', 'y', 'N', 'a', 'm', 'e', '"', ':', '"', (byte) 0xff,
                (byte) 0xfe, (byte) 0xfd, '"', '}'};
        RawHttp.Response bytes = raw("PUT " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + auth, notUtf8);
        assertThat(bytes.status()).isEqualTo(400);
        HttpResponse<String> huge = putJson(officer(), path, "{\"familyName\":\"" + "Q".repeat(5_000) + "\"}");
        assertThat(huge.statusCode()).isEqualTo(400);
        assertThat(huge.body()).doesNotContain("QQQQ");
        assertThat(org.springframework.jdbc.core.simple.JdbcClient.create(dataSource).sql(
                "select count(*) from incident.principal_link where principal = ? and family_token is not null")
                .param(target.clientId()).query(Long.class).single()).as("nothing stored").isZero();
    }

    @Test
    void suspendingARoleIsRefusedToOutsidersAndForUnknownRolesWithoutEcho() {
        String path = "/admin/incidents/" + UUID.randomUUID() + "/containment";
        String body = "{\"suspendRoles\":[\"" + TestPolicy.EDIT_ONLY + "\"]}";
        assertThat(sendWithoutToken(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))).statusCode()).isEqualTo(401);
        assertThat(postJson(token(), path, body).statusCode()).as("a records role").isEqualTo(403);
        assertThat(postJson(officer(), path, body).statusCode()).as("no such incident").isEqualTo(404);

        ServiceClients.Credentials nurse = client("suspend-attack", TestPolicy.EVERYTHING);
        String patient = createPatient();
        link(nurse.clientId(), patient);
        read(tokenFor(nurse.clientId(), nurse.clientSecret()), patient);
        Incident incident = awaitIncident("self-access", nurse.clientId());
        HttpResponse<String> unknown = postJson(officer(), "/admin/incidents/" + incident.id() + "/containment",
                "{\"suspendRoles\":[\"" + CANARY.toLowerCase() + "\"]}");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).contains("OperationOutcome").doesNotContain(CANARY.toLowerCase());
        HttpResponse<String> markup = postJson(officer(), "/admin/incidents/" + incident.id() + "/containment",
                "{\"suspendRoles\":[\"<script>" + CANARY + "\"]}");
        assertThat(markup.statusCode()).isEqualTo(400);
        assertThat(markup.body()).doesNotContain(CANARY).doesNotContain("<script>");
        assertThat(incidents.find(incident.id()).orElseThrow().state()).isEqualTo(IncidentState.OPEN);
    }
}
