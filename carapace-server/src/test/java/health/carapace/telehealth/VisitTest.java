package health.carapace.telehealth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * Visits through the real server: $start-visit, join tickets, patient links, the signaling relay
 * and the audit trail of joining, leaving and ending.
 */
class VisitTest extends VisitTestSupport {

    @Test
    void startingAVisitOpensAVirtualEncounterAndGivesLinksWhoseSecretsAreNeverStored() {
        Booking booking = booking();
        Parameters started = started(booking);

        String encounter = ((org.hl7.fhir.r4.model.Reference) started.getParameter("encounter").getValue()).getReference();
        Encounter stored = fhir.newJsonParser().parseResource(Encounter.class,
                send(java.net.http.HttpRequest.newBuilder(uri("/fhir/" + encounter)).GET()).body());
        assertThat(stored.getClass_().getCode()).isEqualTo("VR");
        assertThat(stored.getSubject().getReference()).isEqualTo("Patient/" + booking.patient());
        assertThat(stored.getAppointmentFirstRep().getReference()).isEqualTo("Appointment/" + booking.appointment());

        String link = patientLink(started);
        assertThat(link).matches("[A-Za-z0-9_-]{43}");
        var clinician = started.getParameter().stream().filter(p -> p.getName().equals("clinician")).toList();
        assertThat(clinician).hasSize(1);
        assertThat(clinician.get(0).getPart()).extracting(p -> p.getName()).containsExactly("practitioner", "join");
        assertThat(clinician.get(0).getPart().get(1).getValue().primitiveValue())
                .isEqualTo(baseUrl() + "/telehealth/visits/" + booking.appointment() + "/join");

        // only the link's SHA-256 is kept, and the visit row holds references, no PHI
        JdbcClient db = JdbcClient.create(dataSource);
        List<String> hashes = db.sql("select encode(link_hash, 'hex') from telehealth.patient_link where appointment_id = ?::uuid")
                .param(booking.appointment()).query(String.class).list();
        assertThat(hashes).containsExactly(HexFormat.of().formatHex(sha256(link)));
        assertThat(db.sql("select patient from telehealth.visit where appointment_id = ?::uuid").param(booking.appointment())
                .query(String.class).single()).isEqualTo("Patient/" + booking.patient());

        // asked again: a new link (the old one revoked), no second Encounter
        Parameters again = started(booking);
        assertThat(((org.hl7.fhir.r4.model.Reference) again.getParameter("encounter").getValue()).getReference())
                .isEqualTo(encounter);
        try (SignalClient old = signal().send("type", "hello", "link", link)) {
            assertThat(old.closedWithin10s()).isEqualTo(new SignalClient.Closed(1008, "link-refused"));
        }
        joined("link", patientLink(again)).close();
    }

    @Test
    void aClinicianWithoutACareRelationshipCanNeitherStartNorJoin() {
        Booking booking = booking();
        Clinician stranger = clinician(TestPolicy.VISIT_CLINICIAN);
        // a participant of the Appointment, but with no care relationship with its patient
        String theirs = appointment(booking.patient(), stranger.practitioner());

        HttpResponse<String> refused = startVisit(stranger.token(), theirs);
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(Refusals.outcomeOf(refused).getIssueFirstRep().getDetails().getCodingFirstRep().getCode())
                .isEqualTo("no-care-relationship");
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from telehealth.visit where appointment_id = ?::uuid")
                .param(theirs).query(Long.class).single()).isZero();

        started(booking);
        HttpResponse<String> join = join(stranger.token(), booking.appointment());
        assertThat(join.statusCode()).isEqualTo(403);
        assertThat(join.body()).contains("no-care-relationship").doesNotContain(booking.patient());
        assertThat(audited(booking.patient())).anyMatch(e -> e.contains("\"action\":\"denied\"")
                && e.contains("/telehealth/visits/" + booking.appointment() + "/join") && e.contains(stranger.user()));
    }

    @Test
    void aClinicianWhoIsNotAParticipantGetsNoTicketAndTicketsWorkOnce() {
        Booking booking = booking();
        started(booking);
        // a service client may read the Appointment but is nobody's clinician in the visit
        HttpResponse<String> service = join(token(), booking.appointment());
        assertThat(service.statusCode()).isEqualTo(403);
        assertThat(service.body()).contains("not-a-visit-participant");

        String ticket = ticket(booking.clinician(), booking.appointment());
        joined("ticket", ticket).close();
        try (SignalClient again = signal().send("type", "hello", "ticket", ticket)) {
            assertThat(again.closedWithin10s()).isEqualTo(new SignalClient.Closed(1008, "unauthenticated"));
        }
    }

    @Test
    void anExpiredPatientLinkIsRefusedAndNothingIsRelayed() {
        Booking booking = booking();
        String link = patientLink(started(booking));
        JdbcClient.create(dataSource).sql("update telehealth.patient_link set expires_at = now() - interval '1 second' "
                + "where appointment_id = ?::uuid").param(booking.appointment()).update();
        try (SignalClient client = signal().send("type", "hello", "link", link)) {
            assertThat(client.closedWithin10s()).isEqualTo(new SignalClient.Closed(1008, "link-refused"));
            assertThat(client.received).isEmpty();
        }
        assertThat(auditedActors()).anySatisfy(e -> assertThat(e).contains("patient-link-expired"));
    }

    @Test
    void participantsRelayOnlyToEachOtherAndJoiningAndLeavingAreAudited() {
        Booking booking = booking();
        Parameters started = started(booking);
        SignalClient doctor = joined("ticket", ticket(booking.clinician(), booking.appointment()));
        SignalClient patient = signal().send("type", "hello", "link", patientLink(started));
        JsonNode welcome = patient.next("welcome");
        assertThat(welcome.get("role").stringValue()).isEqualTo("patient");
        String patientId = welcome.get("you").stringValue();
        String doctorId = welcome.get("participants").get(0).get("id").stringValue();
        assertThat(doctor.next("joined").get("id").stringValue()).isEqualTo(patientId);

        // the server names the sender; a claimed "from" is not a field it accepts
        doctor.send("type", "commit", "to", patientId, "commitment", "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=");
        JsonNode commit = patient.next("commit");
        assertThat(commit.get("from").stringValue()).isEqualTo(doctorId);
        assertThat(commit.propertyNames()).containsExactlyInAnyOrder("type", "from", "commitment");

        // another visit's participant cannot reach into this one
        Booking other = booking();
        started(other);
        try (SignalClient outsider = joined("ticket", ticket(other.clinician(), other.appointment()))) {
            outsider.send("type", "offer", "to", patientId, "sdp", "v=0\r\n");
            assertThat(outsider.closedWithin10s()).isEqualTo(new SignalClient.Closed(1008, "not-in-visit"));
        }
        assertThat(patient.received.stream().filter(m -> m.get("type").stringValue().equals("offer"))).isEmpty();

        patient.send("type", "bye");
        assertThat(doctor.next("left").get("id").stringValue()).isEqualTo(patientId);
        doctor.close();
        String path = "/telehealth/visits/" + booking.appointment();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(audited(booking.patient()))
                .anyMatch(e -> e.contains(path + "/join") && e.contains(booking.clinician().user()))
                .anyMatch(e -> e.contains(path + "/join") && e.contains("\"user\":\"Patient/" + booking.patient()))
                .anyMatch(e -> e.contains(path + "/leave") && e.contains("\"user\":\"Patient/" + booking.patient()))
                .anyMatch(e -> e.contains(path + "/leave") && e.contains(booking.clinician().user())));
    }

    @Test
    void onlyAClinicianEndsTheVisitAndThenNoOneJoinsAgain() {
        Booking booking = booking();
        Parameters started = started(booking);
        SignalClient doctor = joined("ticket", ticket(booking.clinician(), booking.appointment()));
        SignalClient patient = joined("link", patientLink(started));
        patient.send("type", "end");
        assertThat(patient.closedWithin10s()).isEqualTo(new SignalClient.Closed(1008, "not-allowed"));

        String spareLink = patientLink(started(booking));
        doctor.send("type", "end");
        assertThat(doctor.closedWithin10s()).isEqualTo(new SignalClient.Closed(1000, "visit-ended"));
        try (SignalClient late = signal().send("type", "hello", "link", spareLink)) {
            assertThat(late.closedWithin10s()).isEqualTo(new SignalClient.Closed(1008, "link-refused"));
        }
        assertThat(join(booking.clinician().token(), booking.appointment()).statusCode()).isEqualTo(409);
        assertThat(startVisit(booking.clinician().token(), booking.appointment()).statusCode()).isEqualTo(409);
        assertThat(audited(booking.patient())).anyMatch(e -> e.contains("/telehealth/visits/" + booking.appointment() + "/end")
                && e.contains("\"action\":\"modified\""));
    }

    @Test
    void aVisitHoldsAtMostFourParticipants() {
        Booking booking = booking();
        started(booking);
        List<SignalClient> present = new java.util.ArrayList<>();
        present.add(joined("ticket", ticket(booking.clinician(), booking.appointment())));
        for (int i = 0; i < 3; i++) {
            // each link is used before the next is issued, so issuing it revokes nothing in use
            present.add(joined("link", patientLink(started(booking))));
        }
        try (SignalClient fifth = signal().send("type", "hello", "link", patientLink(started(booking)))) {
            assertThat(fifth.closedWithin10s()).isEqualTo(new SignalClient.Closed(1008, "visit-full"));
            assertThat(fifth.received).isEmpty();
        }
        present.forEach(SignalClient::close);
    }

    private List<String> audited(String patient) {
        return JdbcClient.create(dataSource).sql("select convert_from(body, 'UTF8') from audit.event where patient = ? order by id")
                .param("Patient/" + patient).query(String.class).list();
    }

    private List<String> auditedActors() {
        return JdbcClient.create(dataSource).sql("select convert_from(body, 'UTF8') from audit.event order by id desc limit 50")
                .query(String.class).list();
    }

    static byte[] sha256(String text) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
