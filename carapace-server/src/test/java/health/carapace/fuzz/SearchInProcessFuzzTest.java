package health.carapace.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import health.carapace.records.internal.RecordsInputPath;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;

/**
 * Search parameters in this JVM ({@link RecordsInputPath#search}: Tomcat's parameter parser, the
 * paging check, includes, the search's plan up to its query, sorting), with the inputs of
 * {@link SearchFuzzTest}; and the audit trail's search ({@link RecordsInputPath#auditEventSearch}),
 * with the inputs of {@link AdminApiFuzzTest#adminRequests}' AuditEvent queries.
 */
class SearchInProcessFuzzTest {

    private LeakWatch watch;

    @BeforeEach
    void watchTheLogs() {
        watch = InProcessChecks.watchTheServersLogs();
    }

    @FuzzTest(maxDuration = "3m")
    void queryString(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        String type = served(data.pickValue(FhirInputFuzzTest.TYPES));
        RecordsInputPath.Answer answer = FhirInputInProcessFuzzTest.PATH.search(type, SearchFuzzTest.query(data, marker),
                null);
        InProcessChecks.check(answer.status(), answer.body(), marker, watch, !answer.byTomcat());
    }

    @FuzzTest(maxDuration = "3m")
    void formBody(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        String type = served(data.pickValue(FhirInputFuzzTest.TYPES));
        RecordsInputPath.Answer answer = FhirInputInProcessFuzzTest.PATH.search(type, null,
                SearchFuzzTest.form(data, marker).getBytes(StandardCharsets.UTF_8));
        InProcessChecks.check(answer.status(), answer.body(), marker, watch, !answer.byTomcat());
    }

    @FuzzTest(maxDuration = "3m")
    void auditEvents(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        RecordsInputPath.Answer answer = FhirInputInProcessFuzzTest.PATH.auditEventSearch(
                AdminApiFuzzTest.auditEventQuery(data, marker));
        InProcessChecks.check(answer.status(), answer.body(), marker, watch, !answer.byTomcat());
    }

    /** Unknown types are refused before parameters are read (the HTTPS target covers them). */
    private static String served(String type) {
        return RecordsInputPath.serves(type) ? type : "Observation";
    }
}
