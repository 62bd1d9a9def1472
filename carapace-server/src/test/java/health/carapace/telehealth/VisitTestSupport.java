package health.carapace.telehealth;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.Users;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.Parameters;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * What every telehealth test starts from, through the real server: a patient, a practitioner
 * signed in as a person (password and TOTP) in a care relationship with them, and a booked
 * Appointment between the two.
 */
abstract class VisitTestSupport extends IntegrationTest {

    static final String PASSWORD = "correct horse battery staple";

    @Autowired
    Users users;

    /** A practitioner, the person acting as them (signed in), their access token. */
    record Clinician(String practitioner, String user, String token) {}

    /** A patient, a clinician caring for them, and their booked Appointment. */
    record Booking(String patient, Clinician clinician, String appointment) {}

    Booking booking() {
        String patient = create("Patient", "{\"resourceType\":\"Patient\",\"active\":true}");
        Clinician clinician = clinician(TestPolicy.VISIT_CLINICIAN);
        create("CareTeam", "{\"resourceType\":\"CareTeam\",\"status\":\"active\",\"subject\":{\"reference\":\"Patient/"
                + patient + "\"},\"participant\":[{\"member\":{\"reference\":\"Practitioner/" + clinician.practitioner()
                + "\"}}]}");
        return new Booking(patient, clinician, appointment(patient, clinician.practitioner()));
    }

    String appointment(String patient, String practitioner) {
        return create("Appointment", "{\"resourceType\":\"Appointment\",\"status\":\"booked\",\"participant\":["
                + "{\"actor\":{\"reference\":\"Patient/" + patient + "\"},\"status\":\"accepted\"},"
                + "{\"actor\":{\"reference\":\"Practitioner/" + practitioner + "\"},\"status\":\"accepted\"}]}");
    }

    Clinician clinician(String role) {
        String practitioner = create("Practitioner", "{\"resourceType\":\"Practitioner\",\"active\":true}");
        String userName = "visit-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(userName, Set.of(role), practitioner);
        SignInBrowser browser = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        return new Clinician(practitioner, userName, browser.firstSignIn(enrolment.link(), userName, PASSWORD).accessToken());
    }

    HttpResponse<String> startVisit(String accessToken, String appointment) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Appointment/" + appointment + "/$start-visit"))
                .header("Authorization", "Bearer " + accessToken).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Parameters\"}")));
    }

    Parameters started(Booking booking) {
        HttpResponse<String> response = startVisit(booking.clinician().token(), booking.appointment());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Parameters.class, response.body());
    }

    /** The patient's link secret, from the page URL $start-visit answered with. */
    static String patientLink(Parameters started) {
        String url = started.getParameter("patient-link").getValue().primitiveValue();
        return url.substring(url.indexOf("#link=") + "#link=".length());
    }

    HttpResponse<String> join(String accessToken, String appointment) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/telehealth/visits/" + appointment + "/join"))
                .header("Authorization", "Bearer " + accessToken).POST(HttpRequest.BodyPublishers.noBody()));
    }

    /** A clinician's one-time ticket (from the page URL the join endpoint answers with). */
    String ticket(Clinician clinician, String appointment) {
        HttpResponse<String> response = join(clinician.token(), appointment);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        String url = SignalClient.JSON.readTree(response.body()).get("url").stringValue();
        assertThat(url).startsWith(baseUrl() + "/telehealth/visit#ticket=");
        return url.substring(url.indexOf("#ticket=") + "#ticket=".length());
    }

    SignalClient signal() {
        return SignalClient.open(baseUrl(), baseUrl());
    }

    /** A connection admitted to the visit: its welcome message has been read. */
    SignalClient joined(String helloField, String secret) {
        SignalClient client = signal().send("type", "hello", helloField, secret);
        assertThat(client.next().get("type").stringValue()).isEqualTo("welcome");
        return client;
    }

    String create(String type, String json) {
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/" + type))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json)));
        assertThat(created.statusCode()).as("create " + type + ": " + created.body()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
    }
}
