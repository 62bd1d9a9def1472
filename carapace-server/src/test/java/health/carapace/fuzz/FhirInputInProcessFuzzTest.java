package health.carapace.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import health.carapace.records.internal.RecordsInputPath;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;

/**
 * The FHIR JSON and XML input path in this JVM ({@link RecordsInputPath}: the content-type guard,
 * {@code StrictBody}, HAPI's binding with the server's parser settings, and the store's checks
 * before its first statement), with the inputs of {@link FhirInputFuzzTest}: thousands of
 * executions a second where the HTTPS target makes one request each.
 */
class FhirInputInProcessFuzzTest {

    static final RecordsInputPath PATH = RecordsInputPath.asConfigured();

    private LeakWatch watch;

    @BeforeEach
    void watchTheLogs() {
        watch = InProcessChecks.watchTheServersLogs();
    }

    @FuzzTest(maxDuration = "3m")
    void json(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        String type = data.pickValue(FhirInputFuzzTest.TYPES);
        create(type, FhirInputFuzzTest.jsonBody(data, type, marker), FuzzTarget.FHIR_JSON, marker);
    }

    @FuzzTest(maxDuration = "3m")
    void xml(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        String type = data.pickValue(FhirInputFuzzTest.TYPES);
        create(type, FhirInputFuzzTest.xmlBody(data, type, marker), FuzzTarget.FHIR_XML, marker);
    }

    private void create(String type, String body, String contentType, String marker) {
        // a type the server does not create through this path is answered before its body is read;
        // its body still goes through a served type's path, where it must be refused as another type
        String served = RecordsInputPath.serves(type) ? type : "Patient";
        RecordsInputPath.Answer answer = PATH.create(served, contentType, body.getBytes(StandardCharsets.UTF_8));
        InProcessChecks.check(answer.status(), answer.body(), marker, watch);
    }
}
