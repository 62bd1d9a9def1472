package health.carapace.incident.internal;

import health.carapace.incident.Breach;
import health.carapace.incident.Containment;
import health.carapace.incident.RiskAssessment;
import java.io.IOException;
import org.springframework.mock.web.MockHttpServletRequest;

/**
 * The incident and privacy admin routes' reading of their JSON bodies ({@link AdminJson#read}:
 * content type, size, UTF-8, strict Jackson binding into the value types with their own checks)
 * in this JVM, for the fast fuzz target; the refusal is the OperationOutcome those routes send.
 */
public final class AdminBodiesInput {

    /** The bodies these routes read, with the words their refusals use. */
    public enum Body {
        CONTAINMENT(Containment.Actions.class, "Containment actions"),
        CLOSING(IncidentsEndpoint.Closing.class, "A closing"),
        RISK_ASSESSMENT(RiskAssessment.class, "A risk assessment"),
        BREACH(Breach.class, "A breach determination"),
        FAMILY_NAME(PrivacyEndpoint.FamilyNameBody.class, "A principal's family name"),
        FLAGS(PrivacyEndpoint.FlagsBody.class, "A patient's flags"),
        LINK(PrivacyEndpoint.LinkBody.class, "A principal's link");

        private final Class<?> type;
        private final String what;

        Body(Class<?> type, String what) {
            this.type = type;
            this.what = what;
        }
    }

    /** What the client would be sent: 200 with no body when the value was read, else the refusal. */
    public record Answer(int status, String body) {}

    private AdminBodiesInput() {
    }

    public static Answer read(Body body, String contentType, byte[] bytes) throws IOException {
        MockHttpServletRequest request = new MockHttpServletRequest("PUT", "/admin/incidents");
        if (contentType != null) {
            request.setContentType(contentType);
        }
        request.setContent(bytes);
        try {
            AdminJson.read(request, body.type, body.what);
            return new Answer(200, "");
        } catch (AdminJson.BadBody bad) {
            var refusal = AdminJson.outcome(bad);
            return new Answer(refusal.getStatusCode().value(), refusal.getBody());
        }
    }
}
