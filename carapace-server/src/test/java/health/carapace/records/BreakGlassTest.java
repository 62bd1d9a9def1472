package health.carapace.records;

import static health.carapace.records.AccessEnforcementTest.assertRefused;
import static health.carapace.records.AccessEnforcementTest.observation;
import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.access.BreakGlass;
import health.carapace.access.BreakGlassOpened;
import health.carapace.audit.AuditQueries;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Emergency access over HTTPS: {@code POST /fhir/$break-glass} with a mandatory reason opens one
 * patient for 60 minutes, outside care relationships and time windows but not outside the IP
 * range; every access under it is audited with the break-glass flag; the opening is audited and
 * announced as a {@link BreakGlassOpened} application event; closing early and expiry end it.
 */
class BreakGlassTest extends IntegrationTest {

    private static final List<BreakGlassOpened> announced = new CopyOnWriteArrayList<>();
    private static boolean listening;

    @Autowired
    ConfigurableApplicationContext context;

    @Autowired
    AuditQueries auditQueries;

    @Autowired
    BreakGlass breakGlass;

    private final String reason = "Unconscious in ER, allergy check " + UUID.randomUUID();
    private String patient;

    @BeforeEach
    void aPatientNobodyIsInCareRelationshipWith() {
        synchronized (BreakGlassTest.class) {
            if (!listening) {
                // a listener like the audit or incident modules would declare with @EventListener
                context.addApplicationListener(ApplicationListener.forPayload((Object payload) -> {
                    if (payload instanceof BreakGlassOpened opened) {
                        announced.add(opened);
                    }
                }));
                listening = true;
            }
        }
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Glass"
                        + Fakes.letters(8) + "\"}]}")));
        assertThat(created.statusCode()).isEqualTo(201);
        patient = fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
        assertThat(send(HttpRequest.newBuilder(uri("/fhir/Observation")).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(observation(patient)))).statusCode()).isEqualTo(201);
    }

    @Test
    void breakGlassOpensOnePatientForAnHourFlagsEveryAccessAndIsAnnounced() {
        ServiceClients.Credentials clinician = client("glass-clinician", TestPolicy.CLINICIAN);
        String token = tokenFor(clinician.clientId(), clinician.clientSecret());
        assertRefused(get(token, "Patient/" + patient), "no-care-relationship");

        HttpResponse<String> opened = open(token, patient, reason);
        assertThat(opened.statusCode()).isEqualTo(200);
        Parameters grant = fhir.newJsonParser().parseResource(Parameters.class, opened.body());
        UUID grantId = UUID.fromString(grant.getParameter("grant").getValue().primitiveValue());
        assertThat(opened.body()).doesNotContain(reason);

        BreakGlassOpened event = announced.stream().filter(e -> e.grantId().equals(grantId)).findFirst().orElseThrow();
        assertThat(event.principal()).isEqualTo(clinician.clientId());
        assertThat(event.patient()).isEqualTo("Patient/" + patient);
        assertThat(Duration.between(event.openedAt(), event.expiresAt())).isEqualTo(Duration.ofMinutes(60));

        assertThat(get(token, "Patient/" + patient).statusCode()).isEqualTo(200);
        Bundle observations = fhir.newJsonParser().parseResource(Bundle.class,
                get(token, "Observation?patient=" + patient).body());
        assertThat(observations.getTotal()).isEqualTo(1);
        // only the opened patient: another one stays closed
        String other = fhir.newJsonParser().parseResource(send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"active\":true}"))).body())
                .getIdElement().getIdPart();
        assertRefused(get(token, "Patient/" + other), "no-care-relationship");

        List<AuditQueries.StoredEvent> events = auditQueries.search(new AuditQueries.Criteria("Patient/" + patient,
                clinician.clientId(), null, null, null, null, 100));
        assertThat(events).filteredOn(e -> e.action().equals("viewed")).hasSizeGreaterThanOrEqualTo(2)
                .allSatisfy(e -> assertThat(e.breakGlass()).isTrue());
        assertThat(events).filteredOn(e -> e.action().equals("break_glass")).singleElement()
                .satisfies(e -> {
                    assertThat(e.breakGlass()).isTrue();
                    assertThat(e.resource()).isEqualTo("/fhir/$break-glass");
                });
        assertThat(events).filteredOn(e -> e.action().equals("denied")).isNotEmpty()
                .allSatisfy(e -> assertThat(e.breakGlass()).isFalse());

        // a reviewer with view:audit sees the flag and the refusal reasons in the FHIR AuditEvents
        String reviewer = tokenWithRoles("glass-reviewer", "admin");
        HttpResponse<String> trail = send(reviewer, HttpRequest.newBuilder(uri("/fhir/AuditEvent?patient=Patient/" + patient
                + "&agent=" + clinician.clientId())).GET());
        assertThat(trail.statusCode()).isEqualTo(200);
        Bundle audit = fhir.newJsonParser().parseResource(Bundle.class, trail.body());
        assertThat(audit.getEntry()).map(entry -> (org.hl7.fhir.r4.model.AuditEvent) entry.getResource())
                .anySatisfy(e -> assertThat(e.getPurposeOfEvent()).anySatisfy(p -> assertThat(p.getCodingFirstRep()
                        .getCode()).isEqualTo("BTG")))
                .anySatisfy(e -> assertThat(e.getOutcomeDesc()).isEqualTo("no-care-relationship"));
        assertThat(trail.body()).doesNotContain("Unconscious");

        // the reason is stored only as ciphertext (under the patient's key), and a reviewer can read it
        byte[] stored = JdbcClient.create(dataSource).sql("select reason from iam.break_glass where grant_id = ?")
                .param(grantId).query(byte[].class).single();
        assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain("Unconscious");
        assertThat(breakGlass.reason(grantId)).contains(reason);
        assertThat(breakGlass.review(event.openedAt())).anySatisfy(review -> {
            assertThat(review.grantId()).isEqualTo(grantId);
            assertThat(review.principal()).isEqualTo(clinician.clientId());
            assertThat(review.reason()).isEqualTo(reason);
        });

        // closing early ends it at once
        HttpResponse<String> closed = send(token, HttpRequest.newBuilder(uri("/fhir/$break-glass-close"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(parameters(patient, null))));
        assertThat(closed.statusCode()).isEqualTo(200);
        assertThat(closed.body()).contains("\"valueBoolean\":true");
        assertRefused(get(token, "Patient/" + patient), "no-care-relationship");
        assertThat(auditQueries.search(new AuditQueries.Criteria("Patient/" + patient, clinician.clientId(), null, null,
                List.of("break_glass"), null, 10))).hasSize(2);
    }

    @Test
    void anExpiredGrantOpensNothing() {
        String token = tokenWithRoles("glass-expiry", TestPolicy.CLINICIAN);
        assertThat(open(token, patient, reason).statusCode()).isEqualTo(200);
        assertThat(get(token, "Patient/" + patient).statusCode()).isEqualTo(200);
        // an hour passes: move the grant into the past instead of waiting
        JdbcClient.create(dataSource).sql("update iam.break_glass set opened_at = opened_at - interval '2 hours', "
                + "expires_at = expires_at - interval '2 hours' where patient = ?").param("Patient/" + patient).update();
        assertRefused(get(token, "Patient/" + patient), "no-care-relationship");
        assertThat(get(token, "Observation?patient=" + patient).body()).contains("\"total\":0");
    }

    @Test
    void breakGlassLiftsTheTimeWindowButNotTheAddressRangeUnlessTheRoleSaysSo() {
        String offHours = tokenWithRoles("glass-off-hours", TestPolicy.OFF_HOURS);
        assertThat(open(offHours, patient, reason).statusCode()).isEqualTo(200);
        assertThat(get(offHours, "Patient/" + patient).statusCode()).isEqualTo(200);

        String remote = tokenWithRoles("glass-remote", TestPolicy.REMOTE);
        assertRefused(open(remote, patient, reason), "outside-ip-range");
        assertRefused(get(remote, "Patient/" + patient), "outside-ip-range");

        String remoteAllowed = tokenWithRoles("glass-remote-allowed", TestPolicy.REMOTE_BREAK_GLASS);
        assertThat(open(remoteAllowed, patient, reason).statusCode()).isEqualTo(200);
        assertThat(get(remoteAllowed, "Patient/" + patient).statusCode()).isEqualTo(200);
    }

    @Test
    void aReasonIsMandatoryAndThePatientMustExist() {
        String token = tokenWithRoles("glass-bad-input", TestPolicy.CLINICIAN);
        for (HttpResponse<String> refused : List.of(open(token, patient, null), open(token, patient, "   "),
                open(token, patient, "x".repeat(BreakGlass.MAX_REASON_LENGTH + 1)))) {
            assertThat(refused.statusCode()).isEqualTo(400);
            assertThat(refused.body()).contains("OperationOutcome").doesNotContain("xxxxxxxxxx");
        }
        assertThat(open(token, UUID.randomUUID().toString(), reason).statusCode()).isEqualTo(404);
        assertRefused(get(token, "Patient/" + patient), "no-care-relationship");
    }

    private HttpResponse<String> open(String token, String patientId, String why) {
        return send(token, HttpRequest.newBuilder(uri("/fhir/$break-glass"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(parameters(patientId, why))));
    }

    private static String parameters(String patientId, String why) {
        return "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patient\",\"valueReference\":{\"reference\":"
                + "\"Patient/" + patientId + "\"}}" + (why == null ? "" : ",{\"name\":\"reason\",\"valueString\":\""
                + why + "\"}") + "]}";
    }

    private HttpResponse<String> get(String token, String path) {
        return send(token, HttpRequest.newBuilder(uri("/fhir/" + path)).GET());
    }

    private HttpResponse<String> send(String token, HttpRequest.Builder request) {
        return sendWithoutToken(request.header("Authorization", "Bearer " + token));
    }
}
