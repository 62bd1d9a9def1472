package health.carapace.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Each finding of the fuzz targets, kept as a plain regression test (the input that found it is
 * also in the target's committed corpus): status, OperationOutcome, nothing echoed or stored.
 */
class FuzzFindingsTest extends IntegrationTest {

    @Test
    void aJsonPropertyWithAnEmptyNameIsRefusedWith400NotA500() {
        String marker = FuzzMarkers.next();
        long before = storedVersions();
        LeakWatch watch = LeakWatch.install();
        watch.takeFindings();

        // FhirInputFuzzTest#json's empty input: HAPI's JSON parser read the first character of "" (500)
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                        + marker + "\"}],\"\":\"" + marker + "\"}")));

        assertThat(response.statusCode()).as("status; body %s", response.body()).isEqualTo(400);
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getDiagnostics())
                .startsWith("The request body has a JSON property with an empty name");
        assertThat(response.body()).doesNotContain(marker);
        assertThat(storedVersions()).isEqualTo(before);
        assertThat(watch.takeFindings()).isEmpty();
    }

    @Test
    void aRoleDocumentIsRefusedWithoutRepeatingItsNameKeysOrPermissions() {
        // AdminInputInProcessFuzzTest#roleDocument: a name-shaped role, key or permission was quoted back
        String sent = "qzfzmarkrolesabc";
        LeakWatch watch = LeakWatch.install();
        watch.takeFindings();

        // the shared token holds every records permission, not manage:users: an admin client's token
        health.carapace.signin.ServiceClients.Credentials admin = serviceClients.create("fuzz-finding-admin",
                java.util.Set.of("admin"));
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/roles/fuzz-finding"))
                .header("Authorization", "Bearer " + tokenFor(admin.clientId(), admin.clientSecret()))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"role\":\"fuzz-finding" + sent + "\",\"permissions\":"
                        + "[\"view:" + sent + "\"],\"x" + sent + "\":1}")));

        assertThat(response.statusCode()).as("status; body %s", response.body()).isEqualTo(400);
        assertThat(response.body()).contains("OperationOutcome").contains("fuzz-finding.json: role \\\"fuzz-finding\\\"")
                .doesNotContain(sent);
        assertThat(watch.takeFindings()).isEmpty();
    }

    @Test
    void anExtensionEntryThatIsNotAnObjectIsRefusedWith400NotA500() {
        // FhirInputInProcessFuzzTest#json: HAPI's JSON parser took every extension entry for an object (NPE, 500)
        String marker = FuzzMarkers.next();
        long before = storedVersions();
        LeakWatch watch = LeakWatch.install();
        watch.takeFindings();

        for (String extensions : new String[] {"[\"" + marker + "\"]", "[1]", "[null]", "[[{}]]"}) {
            HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                    .header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                            + marker + "\"}],\"modifierExtension\":[],\"extension\":" + extensions + "}")));

            assertThat(response.statusCode()).as("%s; body %s", extensions, response.body()).isEqualTo(400);
            assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getDiagnostics())
                    .startsWith("The request body has an extension that is not a JSON object");
            assertThat(response.body()).doesNotContain(marker);
        }
        assertThat(storedVersions()).isEqualTo(before);
        assertThat(watch.takeFindings()).isEmpty();
    }

    @Test
    void aMalformedXmlCharacterReferenceIsRefusedWith400NotA500() {
        // FhirInputInProcessFuzzTest#xml: StrictBody's XML scan met "&#" and a NUL; Woodstox threw unchecked (500)
        String marker = FuzzMarkers.next();
        long before = storedVersions();
        LeakWatch watch = LeakWatch.install();
        watch.takeFindings();

        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+xml")
                .POST(HttpRequest.BodyPublishers.ofString("<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\""
                        + marker + "\"/></name><text><div xmlns=\"http://www.w3.org/1999/xhtml\">" + marker
                        + "&#\u0000;</div></text></Patient>")));

        assertThat(response.statusCode()).as("status; body %s", response.body()).isEqualTo(400);
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getDiagnostics())
                .startsWith("The request body is not well-formed XML");
        assertThat(response.body()).doesNotContain(marker);
        assertThat(storedVersions()).isEqualTo(before);
        assertThat(watch.takeFindings()).isEmpty();
    }

    @Test
    void parameterNamesHapiWouldRewriteIntoOneAreRefusedWith400NotA500() {
        // SearchInProcessFuzzTest#queryString, #formBody, #auditEvents: HAPI escapes ' in a name (a' -> a&apos;) and
        // drops control characters, then refused the duplicate with an IllegalStateException quoting the name (500)
        String marker = FuzzMarkers.next();
        String quoted = SearchFuzzTest.encode("x" + marker + "'");
        String escaped = SearchFuzzTest.encode("x" + marker + "&apos;");
        LeakWatch watch = LeakWatch.install();
        watch.takeFindings();

        for (String path : new String[] {"/fhir/Patient", "/fhir/AuditEvent"}) {
            HttpResponse<String> search = send(HttpRequest.newBuilder(uri(path + "?" + quoted + "=1&" + escaped + "=2"))
                    .header("Accept", "application/fhir+json").GET());
            assertThat(search.statusCode()).as("%s; body %s", path, search.body()).isEqualTo(400);
            assertThat(Refusals.outcomeOf(search).getIssueFirstRep().getDiagnostics())
                    .startsWith("A parameter name has a character no FHIR parameter name has");
            assertThat(search.body()).doesNotContain(marker);
        }
        HttpResponse<String> form = send(HttpRequest.newBuilder(uri("/fhir/Observation/_search"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(quoted + "=1&" + escaped + "=2")));
        assertThat(form.statusCode()).as("form; body %s", form.body()).isEqualTo(400);
        assertThat(form.body()).contains("OperationOutcome").doesNotContain(marker);
        assertThat(watch.takeFindings()).isEmpty();
    }

    private long storedVersions() {
        return JdbcClient.create(dataSource).sql("select count(*) from phi.resource_version").query(Long.class).single();
    }
}
