package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.junit.jupiter.api.Test;

/**
 * Every interaction the server does not serve answers with the status the specifications give it
 * (issue 17): 405 with {@code Allow} for a method a served path does not take, 501 for an
 * operation or interaction that is not implemented, 400 for a named query or a search parameter
 * that is not served; each with an OperationOutcome that names what is unsupported only when it is
 * a name the server or FHIR defines, never a canary the request carried.
 */
class UnsupportedInteractionsTest extends IntegrationTest {

    private static final String CANARY = "zqunsup" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

    /** One row: method, path under /fhir, expected status, Allow header (or null), words the outcome must name. */
    private record Row(String method, String path, int status, String allow, String names) {}

    @Test
    void everyUnsupportedMethodPathAndParameterHasItsStatusAndANamedOutcome() {
        String patient = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Unsup\"}]}");
        String appointment = create("Appointment", "{\"resourceType\":\"Appointment\",\"status\":\"booked\","
                + "\"participant\":[{\"actor\":{\"reference\":\"Patient/" + patient + "\"},\"status\":\"accepted\"}]}");
        String p = "Patient/" + patient;
        List<Row> rows = List.of(
                // 405: a path served here, a method it does not take
                new Row("PUT", "", 405, "GET, POST", "PUT"),
                // the base takes GET for the paging links (_getpages) of searches
                new Row("DELETE", "", 405, "GET, POST", "DELETE"),
                new Row("POST", "metadata", 405, "GET", "POST"),
                new Row("DELETE", "metadata", 405, "GET", "DELETE"),
                new Row("DELETE", "_history", 405, "GET", "DELETE"),
                new Row("POST", "_history", 405, "GET", "POST"),
                new Row("GET", "$break-glass", 405, "POST", "GET"),
                new Row("POST", p, 405, "GET, PUT, PATCH, DELETE", "POST"),
                new Row("POST", p + "/_history", 405, "GET", "POST"),
                new Row("DELETE", p + "/_history", 405, "GET", "DELETE"),
                new Row("PUT", p + "/_history/1", 405, "GET", "PUT"),
                new Row("DELETE", p + "/_history/1", 405, "GET", "DELETE"),
                new Row("POST", "Patient/_history", 405, "GET", "POST"),
                new Row("DELETE", p + "/$everything", 405, "GET, POST", "DELETE"),
                new Row("PUT", "Observation/_search", 405, "GET, POST", "PUT"),
                new Row("GET", "Appointment/" + appointment + "/$start-visit", 405, "POST", "GET"),
                new Row("POST", "AuditEvent", 405, "GET", "POST"),
                // 501: an operation or interaction that is not implemented
                new Row("GET", "Patient/$meta", 501, null, "$meta"),
                new Row("GET", p + "/$meta", 501, null, "$meta"),
                new Row("POST", p + "/$validate", 501, null, "$validate"),
                new Row("POST", "Patient/$validate", 501, null, "$validate"),
                new Row("GET", "$meta", 501, null, "$meta"),
                new Row("GET", "Observation/$lastn", 501, null, "$lastn"),
                new Row("GET", "Patient/$" + CANARY, 501, null, "operation"),
                new Row("POST", p + "/$" + CANARY, 501, null, "operation"),
                new Row("GET", "$" + CANARY, 501, null, "operation"),
                new Row("GET", p + "/Observation", 501, null, "Compartment search"),
                new Row("GET", "AuditEvent/_history", 501, null, "AuditEvent"),
                // 400: a named query, a search parameter that is not served
                new Row("GET", "Patient?_query=" + CANARY, 400, null, "_query"),
                new Row("GET", "Patient?general-practitioner=Practitioner/" + CANARY, 400, null, "general-practitioner"),
                new Row("GET", "Observation?_has:Patient:link:name=" + CANARY, 400, null, "Observation"),
                new Row("GET", "Patient?" + CANARY + "=1", 400, null, "unknown search parameter"));
        org.assertj.core.api.SoftAssertions.assertSoftly(soft -> {
            for (Row row : rows) {
                HttpResponse<String> response = send(row.method(), row.path());
                String what = row.method() + " /fhir/" + row.path() + " " + response.body();
                soft.assertThat(response.statusCode()).as(what).isEqualTo(row.status());
                soft.assertThat(response.headers().firstValue("Allow").orElse(null)).as(what).isEqualTo(row.allow());
                OperationOutcome outcome = Refusals.outcomeOf(response);
                soft.assertThat(outcome.getIssueFirstRep().getCode()).as(what).isEqualTo(IssueType.NOTSUPPORTED);
                soft.assertThat(outcome.getIssueFirstRep().getDiagnostics()).as(what).contains(row.names())
                        .doesNotContain("malformed body");
                soft.assertThat(response.body()).as(what).doesNotContain(CANARY);
            }
        });
    }

    @Test
    void aCallerWithNothingOnTheTypeIsRefusedBeforeAnythingIsSaidAboutWhatIsServed() {
        String auditor = tokenWithRoles("unsupported-table-auditor", health.carapace.testing.TestPolicy.AUDITOR);
        for (String[] request : new String[][] {{"POST", "Patient/" + UUID.randomUUID()}, {"GET", "Patient/$meta"},
                {"PUT", "Patient/_history"}, {"GET", "Patient/" + UUID.randomUUID() + "/Observation"}}) {
            HttpResponse<String> response = sendWithoutToken(request(request[0], request[1])
                    .header("Authorization", "Bearer " + auditor));
            assertThat(response.statusCode()).as(request[0] + " " + request[1]).isEqualTo(403);
            assertThat(response.headers().firstValue("Allow")).isEmpty();
        }
    }

    private String create(String type, String json) {
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/" + type))
                .header("Authorization", "Bearer " + token()).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    private String auditor;

    /** The records token, or for the audit trail an auditor's (the records token has no audit permission). */
    private HttpResponse<String> send(String method, String path) {
        if (path.startsWith("AuditEvent") && auditor == null) {
            auditor = tokenWithRoles("unsupported-table-audit-reader", health.carapace.testing.TestPolicy.AUDITOR);
        }
        return sendWithoutToken(request(method, path).header("Authorization", "Bearer "
                + (path.startsWith("AuditEvent") ? auditor : token())));
    }

    private HttpRequest.Builder request(String method, String path) {
        boolean body = method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/fhir/" + path));
        if (body) {
            request.header("Content-Type", "application/fhir+json");
        }
        return request.method(method, body
                ? HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Parameters\"}")
                : HttpRequest.BodyPublishers.noBody());
    }
}
