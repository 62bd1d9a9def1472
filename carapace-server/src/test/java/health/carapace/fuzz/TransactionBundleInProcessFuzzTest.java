package health.carapace.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import health.carapace.records.internal.RecordsInputPath;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;

/**
 * Transaction and batch Bundles in this JVM ({@link RecordsInputPath#transaction}: the body
 * checks, HAPI's binding of the Bundle, its type, each entry's conditional criteria and the
 * store's checks of each entry's resource), with the inputs of {@link TransactionBundleFuzzTest}.
 */
class TransactionBundleInProcessFuzzTest {

    private LeakWatch watch;

    @BeforeEach
    void watchTheLogs() {
        watch = InProcessChecks.watchTheServersLogs();
    }

    @FuzzTest(maxDuration = "3m")
    void bundle(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        RecordsInputPath.Answer answer = FhirInputInProcessFuzzTest.PATH.transaction(FuzzTarget.FHIR_JSON,
                TransactionBundleFuzzTest.document(data, marker).getBytes(StandardCharsets.UTF_8));
        InProcessChecks.check(answer.status(), answer.body(), marker, watch);
    }
}
