package health.carapace.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import health.carapace.access.internal.RoleDocumentsInput;
import health.carapace.incident.internal.AdminBodiesInput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;

/**
 * Role documents and the admin routes' JSON bodies in this JVM: {@code PUT /admin/roles/{name}}
 * through the server's own endpoint over a policy directory of the dev roles
 * ({@link RoleDocumentsInput}), with the inputs of {@link AdminApiFuzzTest#roleDocument}; and the
 * incident and privacy routes' bodies ({@link AdminBodiesInput}).
 */
class AdminInputInProcessFuzzTest {

    private static final RoleDocumentsInput ROLES = RoleDocumentsInput.withDevRoles();

    private LeakWatch watch;

    @BeforeEach
    void watchTheLogs() {
        watch = InProcessChecks.watchTheServersLogs();
    }

    @FuzzTest(maxDuration = "3m")
    void roleDocument(FuzzedDataProvider data) throws IOException {
        String marker = FuzzMarkers.next();
        AdminApiFuzzTest.RolePut put = AdminApiFuzzTest.rolePut(data, marker);
        RoleDocumentsInput.Answer answer = ROLES.put(put.name(), put.contentType(),
                put.document().getBytes(StandardCharsets.UTF_8));
        InProcessChecks.check(answer.status(), answer.body(), marker, watch);
    }

    @FuzzTest(maxDuration = "3m")
    void adminBodies(FuzzedDataProvider data) throws IOException {
        String marker = FuzzMarkers.next();
        AdminBodiesInput.Body kind = data.pickValue(AdminBodiesInput.Body.values());
        String contentType = data.pickValue(new String[] {"application/json", "application/json; charset=utf-8",
            "application/fhir+json", "text/plain", "application/json; charset=latin1", ""});
        String body;
        if (data.consumeBoolean()) {
            body = data.consumeString(500) + marker + data.consumeRemainingAsString();
        } else {
            // an object of the fields these bodies have, values fuzzed, the marker in one of them
            String[] fields = {"revokeSessions", "disable", "block", "unblock", "lockdown", "allow", "suspendRoles",
                "liftRoles", "state", "resolution", "phiInvolved", "recipient", "acquisition", "mitigation",
                "conclusion", "discoveredOn", "affected", "residentsByState", "familyName", "vip", "employee",
                "patient"};
            StringBuilder json = new StringBuilder("{");
            int count = data.consumeInt(0, 5);
            int markedAt = data.consumeInt(0, Math.max(0, count - 1));
            for (int i = 0; i < count; i++) {
                String value = switch (data.consumeInt(0, 4)) {
                    case 0 -> FhirInputFuzzTest.quote(data.consumeString(60));
                    case 1 -> "[" + FhirInputFuzzTest.quote(data.consumeString(40)) + "]";
                    case 2 -> "{" + FhirInputFuzzTest.quote(data.consumeString(10)) + ":" + data.consumeInt() + "}";
                    case 3 -> Long.toString(data.consumeLong());
                    default -> data.consumeString(40);
                };
                if (i == markedAt) {
                    value = FhirInputFuzzTest.quote(marker + data.consumeString(20));
                }
                json.append(i == 0 ? "" : ",").append(FhirInputFuzzTest.quote(data.pickValue(fields))).append(':')
                        .append(value);
            }
            body = json.append(count == 0 ? "\"x" + marker + "\":1" : "").append(data.consumeRemainingAsString())
                    .append('}').toString();
        }
        AdminBodiesInput.Answer answer = AdminBodiesInput.read(kind, contentType.isEmpty() ? null : contentType,
                body.getBytes(StandardCharsets.UTF_8));
        InProcessChecks.check(answer.status(), answer.body(), marker, watch);
    }
}
