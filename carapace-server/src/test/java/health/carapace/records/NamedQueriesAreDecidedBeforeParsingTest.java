package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.junit.jupiter.api.Test;

/**
 * An interaction Carapace does not serve ({@code _query}, history of a type or of the server,
 * {@code $everything}, {@code $meta}, {@code $validate}) is decided like the search or read it
 * resembles: a caller without permission on the type gets 403, a permitted caller a 400
 * {@code not-supported} that says what is not supported (not "malformed body"). Found in review
 * (after issue 12): HAPI answered its 400 before the decision on every type, AuditEvent included.
 */
class NamedQueriesAreDecidedBeforeParsingTest extends IntegrationTest {

    private static final String CANARY = "zqnamed" + UUID.randomUUID().toString().replace("-", "");

    @Test
    void aNamedQueryIs403WithoutPermissionAnd400NotSupportedWithIt() {
        String auditor = tokenWithRoles("named-query-auditor", TestPolicy.AUDITOR);
        String recordsOnly = tokenWithRoles("named-query-records", "records-service");
        for (String type : new String[] {"Patient", "Observation", "Practitioner"}) {
            assertForbidden(get(auditor, type + "?_query=" + CANARY));
            assertNotSupported(get(token(), type + "?_query=" + CANARY), "_query", 400);
        }
        assertForbidden(get(recordsOnly, "AuditEvent?_query=" + CANARY));
        assertNotSupported(get(auditor, "AuditEvent?_query=" + CANARY), "_query", 400);
    }

    @Test
    void unsupportedHistoryAndOperationsAreDecidedThenNamedHonestly() {
        String auditor = tokenWithRoles("unsupported-auditor", TestPolicy.AUDITOR);
        String id = UUID.randomUUID().toString();
        for (String path : new String[] {"Patient/$meta", "Patient/" + id + "/$meta"}) {
            assertForbidden(get(auditor, path));
            assertNotSupported(get(token(), path), "$meta", 501);
        }
        // history of a type and of the server and $everything are served (issue 17): decided first
        assertForbidden(get(auditor, "Patient/_history"));
        assertForbidden(get(auditor, "Patient/" + id + "/$everything"));
        assertForbidden(get(auditor, "_history"));
        assertNotSupported(get(token(), "$meta"), "$meta", 501);
        HttpResponse<String> validate = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient/$validate"))
                .header("Authorization", "Bearer " + token()).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")));
        assertNotSupported(validate, "$validate", 501);
    }

    private static void assertForbidden(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(403);
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getCode()).isEqualTo(IssueType.FORBIDDEN);
        assertThat(response.body()).doesNotContain(CANARY);
    }

    private static void assertNotSupported(HttpResponse<String> response, String named, int status) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        OperationOutcome outcome = Refusals.outcomeOf(response);
        assertThat(outcome.getIssueFirstRep().getCode()).isEqualTo(IssueType.NOTSUPPORTED);
        assertThat(outcome.getIssueFirstRep().getDiagnostics()).contains(named).doesNotContain("malformed body");
        assertThat(response.body()).doesNotContain(CANARY);
    }

    private HttpResponse<String> get(String token, String path) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/" + path)).header("Authorization", "Bearer " + token).GET());
    }
}
