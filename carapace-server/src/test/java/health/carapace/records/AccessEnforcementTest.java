package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.access.CareRelationships;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditQueries;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * End to end over HTTPS: the policy decides every interaction (read, vread, history, search by GET
 * and POST, paging, create, update, delete, batch and transaction entries), a caller without
 * view:all_patients sees only the patients they are in a care relationship with, searches are
 * narrowed in SQL (totals and pages agree with what the caller may see), and every refusal is a
 * 403 OperationOutcome with a stable reason, audited as DENIED with that reason.
 */
class AccessEnforcementTest extends IntegrationTest {

    @Autowired
    CareRelationships relationships;

    @Autowired
    AuditQueries auditQueries;

    private final String stem = "Scoped" + Fakes.letters(10);
    private final List<String> patients = new ArrayList<>();
    private final Set<String> assigned = new HashSet<>();
    private ServiceClients.Credentials clinician;
    private String clinicianToken;

    /** Twelve patients named with the same stem, each with one Observation; the clinician is assigned five. */
    @BeforeEach
    void patientsAndAClinicianAssignedToSomeOfThem() {
        for (int i = 0; i < 12; i++) {
            String id = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + stem + "\"}],"
                    + "\"gender\":\"" + (i % 2 == 0 ? "female" : "male") + "\"}");
            patients.add(id);
            create("Observation", observation(id));
        }
        clinician = client("scoped-clinician", TestPolicy.CLINICIAN);
        clinicianToken = tokenFor(clinician.clientId(), clinician.clientSecret());
        for (int i : new int[] {0, 3, 4, 7, 10}) {
            relationships.assign(clinician.clientId(), "Patient/" + patients.get(i), "test-admin", AuditContext.none());
            assigned.add(patients.get(i));
        }
    }

    @Test
    void aScopedSearchCountsAndPagesOnlyThePatientsInCareWhileAnAllPatientsCallerSeesThemAll() {
        Bundle everyone = search(token(), "Patient?family=" + stem + "&_count=100");
        assertThat(everyone.getTotal()).isEqualTo(12);

        Bundle first = search(clinicianToken, "Patient?family=" + stem + "&_count=2");
        assertThat(first.getTotal()).isEqualTo(5);
        Set<String> seen = new HashSet<>(ids(first));
        int pages = 1;
        for (Bundle page = first; page.getLink(Bundle.LINK_NEXT) != null; pages++) {
            page = bundle(send(clinicianToken, HttpRequest.newBuilder(java.net.URI.create(page.getLink(Bundle.LINK_NEXT)
                    .getUrl())).GET()));
            assertThat(page.getTotal()).isEqualTo(5);
            seen.addAll(ids(page));
        }
        assertThat(pages).isEqualTo(3);
        assertThat(seen).isEqualTo(assigned);

        // the same through a search that filters decrypted candidates (gender): narrowed before decrypting
        Bundle females = search(clinicianToken, "Patient?family=" + stem + "&gender=female");
        Set<String> assignedFemales = new HashSet<>();
        for (int i : new int[] {0, 4, 10}) {
            assignedFemales.add(patients.get(i));
        }
        assertThat(females.getTotal()).isEqualTo(3);
        assertThat(new HashSet<>(ids(females))).isEqualTo(assignedFemales);
        assertThat(search(token(), "Patient?family=" + stem + "&gender=female").getTotal()).isEqualTo(6);

        // POST _search is the same search
        HttpResponse<String> posted = send(clinicianToken, HttpRequest.newBuilder(uri("/fhir/Patient/_search"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("family=" + stem)));
        assertThat(bundle(posted).getTotal()).isEqualTo(5);

        // clinical records of a patient outside the relationship: an empty result, not a hint
        String outsider = patients.get(1);
        assertThat(search(clinicianToken, "Observation?patient=" + outsider).getTotal()).isZero();
        assertThat(search(clinicianToken, "Observation?patient=" + patients.get(0)).getTotal()).isEqualTo(1);
        assertThat(search(token(), "Observation?patient=" + outsider).getTotal()).isEqualTo(1);
    }

    @Test
    void everyInteractionOnAPatientOutsideTheCareRelationshipIsRefusedAndAudited() {
        String outsider = patients.get(1);
        String inCare = patients.get(0);
        String outsiderObservation = ids(search(token(), "Observation?patient=" + outsider)).get(0);
        String inCareObservation = ids(search(token(), "Observation?patient=" + inCare)).get(0);

        assertThat(get(clinicianToken, "Patient/" + inCare).statusCode()).isEqualTo(200);
        assertThat(get(clinicianToken, "Patient/" + inCare + "/_history/1").statusCode()).isEqualTo(200);
        assertThat(get(clinicianToken, "Patient/" + inCare + "/_history").statusCode()).isEqualTo(200);
        assertThat(get(clinicianToken, "Observation/" + inCareObservation).statusCode()).isEqualTo(200);

        List<HttpResponse<String>> refusals = List.of(
                get(clinicianToken, "Patient/" + outsider),
                get(clinicianToken, "Patient/" + outsider + "/_history/1"),
                get(clinicianToken, "Patient/" + outsider + "/_history"),
                get(clinicianToken, "Observation/" + outsiderObservation),
                post(clinicianToken, "Observation", observation(outsider)),
                put(clinicianToken, "Observation/" + outsiderObservation, observation(outsider)
                        .replace("{\"resourceType\":\"Observation\",", "{\"resourceType\":\"Observation\",\"id\":\""
                                + outsiderObservation + "\",")),
                delete(clinicianToken, "Observation/" + outsiderObservation),
                // moving a record in care to a patient outside it
                put(clinicianToken, "Observation/" + inCareObservation, observation(outsider)
                        .replace("{\"resourceType\":\"Observation\",", "{\"resourceType\":\"Observation\",\"id\":\""
                                + inCareObservation + "\",")),
                // a transaction fails as a whole when one entry is refused
                post(clinicianToken, "", transaction("GET", "Patient/" + inCare, "GET", "Patient/" + outsider)));
        for (HttpResponse<String> refusal : refusals) {
            assertRefused(refusal, "no-care-relationship");
        }
        // nothing was stored by the refused writes
        assertThat(search(token(), "Observation?patient=" + outsider).getTotal()).isEqualTo(1);
        assertThat(get(token(), "Observation/" + outsiderObservation).statusCode()).isEqualTo(200);

        // a batch decides each entry separately
        Bundle batch = bundle(post(clinicianToken, "", transaction("GET", "Patient/" + inCare, "GET", "Patient/" + outsider)
                .replace("\"transaction\"", "\"batch\"")));
        assertThat(batch.getEntry().get(0).getResponse().getStatus()).startsWith("200");
        assertThat(batch.getEntry().get(1).getResponse().getStatus()).startsWith("403");
        assertThat(((OperationOutcome) batch.getEntry().get(1).getResponse().getOutcome()).getIssueFirstRep()
                .getDetails().getCodingFirstRep().getCode()).isEqualTo("no-care-relationship");

        // the writes the relationship allows go through
        assertThat(post(clinicianToken, "Observation", observation(inCare)).statusCode()).isEqualTo(201);

        List<AuditQueries.StoredEvent> denied = auditQueries.search(new AuditQueries.Criteria(null, clinician.clientId(),
                null, null, List.of("denied"), false, 100));
        assertThat(denied).hasSizeGreaterThanOrEqualTo(refusals.size() + 1);
        assertThat(denied).allSatisfy(event -> assertThat(event.reason()).isEqualTo("no-care-relationship"));
        assertThat(denied).anySatisfy(event -> {
            assertThat(event.patient()).isEqualTo("Patient/" + outsider);
            assertThat(event.resource()).isEqualTo("/fhir/Patient/" + outsider);
        });
    }

    @Test
    void timeWindowsAddressRangesAndMissingPermissionsAreDecidedOnEveryRequest() {
        String inCare = patients.get(0);
        ServiceClients.Credentials offHours = client("off-hours", TestPolicy.OFF_HOURS);
        ServiceClients.Credentials remote = client("remote", TestPolicy.REMOTE);
        ServiceClients.Credentials radiologist = client("radiologist", TestPolicy.RADIOLOGIST);
        ServiceClients.Credentials noRole = serviceClients.create("no-role");
        for (ServiceClients.Credentials c : List.of(offHours, remote, radiologist, noRole)) {
            relationships.assign(c.clientId(), "Patient/" + inCare, "test-admin", AuditContext.none());
        }
        String observation = ids(search(token(), "Observation?patient=" + inCare)).get(0);

        assertRefused(get(tokenFor(offHours), "Patient/" + inCare), "outside-time-window");
        assertRefused(get(tokenFor(offHours), "Patient?family=" + stem), "outside-time-window");
        assertRefused(get(tokenFor(remote), "Patient/" + inCare), "outside-ip-range");
        assertRefused(get(tokenFor(radiologist), "Observation/" + observation), "no-permission");
        assertRefused(get(tokenFor(radiologist), "Observation?patient=" + inCare), "no-permission");
        assertThat(get(tokenFor(radiologist), "Patient/" + inCare).statusCode()).isEqualTo(200);
        assertRefused(get(tokenFor(noRole), "Patient/" + inCare), "no-role");
        // the shared compartment needs the permission only: the clinician has no view:directory
        String practitioner = create("Practitioner", "{\"resourceType\":\"Practitioner\",\"active\":true}");
        assertRefused(get(clinicianToken, "Practitioner/" + practitioner), "no-permission");
        assertThat(get(token(), "Practitioner/" + practitioner).statusCode()).isEqualTo(200);
    }

    @Test
    void eachPageOfASearchIsDecidedAgain() {
        Bundle first = search(clinicianToken, "Patient?family=" + stem + "&_count=2");
        String next = first.getLink(Bundle.LINK_NEXT).getUrl();
        // the clinician's role changes to one whose time window is closed now: the next page is refused
        TestPolicy.grant(dataSource, clinician.clientId(), TestPolicy.OFF_HOURS);
        assertRefused(send(clinicianToken, HttpRequest.newBuilder(java.net.URI.create(next)).GET()), "outside-time-window");
        // and back: the page is served again
        TestPolicy.grant(dataSource, clinician.clientId(), TestPolicy.CLINICIAN);
        assertThat(bundle(send(clinicianToken, HttpRequest.newBuilder(java.net.URI.create(next)).GET())).getEntry())
                .hasSize(2);
    }

    @Test
    void imagingDocumentsAreDecidedByTheirCategoryWithoutDecryptingThem() {
        String inCare = patients.get(0);
        ServiceClients.Credentials radiologist = client("radiologist-docs", TestPolicy.RADIOLOGIST);
        relationships.assign(radiologist.clientId(), "Patient/" + inCare, "test-admin", AuditContext.none());
        String imaging = create("DocumentReference", document(inCare, "image/png"));
        String note = create("DocumentReference", document(inCare, "text/plain"));
        String radiologistToken = tokenFor(radiologist);

        assertThat(get(radiologistToken, "DocumentReference/" + imaging).statusCode()).isEqualTo(200);
        assertRefused(get(radiologistToken, "DocumentReference/" + note), "no-permission");
        assertThat(ids(search(radiologistToken, "DocumentReference?patient=" + inCare))).containsExactly(imaging);
        assertThat(ids(search(clinicianToken, "DocumentReference?patient=" + inCare))).containsExactlyInAnyOrder(imaging, note);

        // review finding F8: the deletion of an imaging document is scoped as imaging in history too
        assertThat(send(token(), HttpRequest.newBuilder(uri("/fhir/DocumentReference/" + imaging)).DELETE()).statusCode())
                .isIn(200, 204);
        HttpResponse<String> history = get(radiologistToken, "DocumentReference/_history?_count=500");
        assertThat(history.statusCode()).isEqualTo(200);
        assertThat(fhir.newJsonParser().parseResource(org.hl7.fhir.r4.model.Bundle.class, history.body()).getEntry())
                .filteredOn(entry -> entry.getRequest().getUrl().contains(imaging))
                .extracting(entry -> entry.getRequest().getMethod().toCode())
                .containsExactlyInAnyOrder("POST", "DELETE");
    }

    @Test
    void anUpdateOfAnotherPatientsRecordIsRefusedBeforeItsVersionIsComparedAndConditionalDeleteSeesOnlyTheScope() {
        String elsewhere = create("Observation", observation(patients.get(1)));
        String body = observation(patients.get(1)).replace("{\"resourceType\":\"Observation\",",
                "{\"resourceType\":\"Observation\",\"id\":\"" + elsewhere + "\",");
        // A stale If-Match must not answer 412 with the current version: that would tell a caller
        // without access that the record exists and how often it changed.
        assertRefused(send(clinicianToken, HttpRequest.newBuilder(uri("/fhir/Observation/" + elsewhere))
                .header("Content-Type", "application/fhir+json").header("If-Match", "W/\"7\"")
                .PUT(HttpRequest.BodyPublishers.ofString(body))), "no-care-relationship");
        // A conditional delete resolves its criteria in the caller's scope: the other patient's record
        // is no match (204, nothing deleted, nothing said about it).
        HttpResponse<String> conditional = delete(clinicianToken, "Observation?subject=Patient/" + patients.get(1));
        assertThat(conditional.statusCode()).isIn(200, 204);
        assertThat(conditional.body()).doesNotContain(patients.get(1)).doesNotContain(elsewhere);
        assertThat(get(token(), "Observation/" + elsewhere).statusCode()).isEqualTo(200);
    }

    @Test
    void aCareRelationshipEndedBetweenPagesOfAFilteredSearchTakesEffectOnTheNextPage() {
        // gender is decided on the plaintext, so these results are a list of ids fixed at search time
        Bundle first = search(clinicianToken, "Patient?family=" + stem + "&gender=female&_count=1");
        assertThat(first.getTotal()).isEqualTo(3);
        assertThat(ids(first)).containsExactly(patients.get(0));
        for (int i : new int[] {4, 10}) {
            relationships.unassign(clinician.clientId(), "Patient/" + patients.get(i), "test-admin", AuditContext.none());
        }
        List<String> later = new ArrayList<>();
        for (Bundle page = first; page.getLink(Bundle.LINK_NEXT) != null; ) {
            page = bundle(send(clinicianToken, HttpRequest.newBuilder(java.net.URI.create(page.getLink(Bundle.LINK_NEXT)
                    .getUrl())).GET()));
            later.addAll(ids(page));
        }
        assertThat(later).doesNotContain(patients.get(4), patients.get(10));
    }

    // --- helpers ---

    static String observation(String patient) {
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
                + "\"http://loinc.org\",\"code\":\"8302-2\"}]},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
    }

    private static String document(String patient, String contentType) {
        return "{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"subject\":{\"reference\":\"Patient/"
                + patient + "\"},\"content\":[{\"attachment\":{\"contentType\":\"" + contentType + "\"}}]}";
    }

    private static String transaction(String method1, String url1, String method2, String url2) {
        return "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"request\":{\"method\":\"" + method1 + "\",\"url\":\"" + url1 + "\"}},"
                + "{\"request\":{\"method\":\"" + method2 + "\",\"url\":\"" + url2 + "\"}}]}";
    }

    private String tokenFor(ServiceClients.Credentials credentials) {
        return tokenFor(credentials.clientId(), credentials.clientSecret());
    }

    private String create(String type, String json) {
        HttpResponse<String> created = post(token(), type, json);
        assertThat(created.statusCode()).as("create " + type).isEqualTo(201);
        return fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
    }

    static void assertRefused(HttpResponse<String> response, String reason) {
        assertThat(response.statusCode()).as(response.request().method() + " " + response.request().uri().getPath())
                .isEqualTo(403);
        OperationOutcome outcome = Refusals.outcomeOf(response);
        assertThat(outcome.getIssueFirstRep().getCode()).isIn(OperationOutcome.IssueType.FORBIDDEN,
                OperationOutcome.IssueType.PROCESSING);
        if (outcome.getIssueFirstRep().getCode() == OperationOutcome.IssueType.FORBIDDEN) {
            Coding coding = outcome.getIssueFirstRep().getDetails().getCodingFirstRep();
            assertThat(coding.getCode()).isEqualTo(reason);
        }
        assertThat(outcome.getIssueFirstRep().getDiagnostics()).contains(reason);
    }

    private Bundle search(String token, String query) {
        HttpResponse<String> response = get(token, query);
        assertThat(response.statusCode()).as(query).isEqualTo(200);
        return bundle(response);
    }

    private Bundle bundle(HttpResponse<String> response) {
        assertThat(response.statusCode()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Bundle.class, response.body());
    }

    private static List<String> ids(Bundle bundle) {
        return bundle.getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
    }

    HttpResponse<String> get(String token, String path) {
        return send(token, HttpRequest.newBuilder(uri("/fhir/" + path)).GET());
    }

    HttpResponse<String> post(String token, String path, String json) {
        return send(token, HttpRequest.newBuilder(uri("/fhir" + (path.isEmpty() ? "" : "/" + path)))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private HttpResponse<String> put(String token, String path, String json) {
        return send(token, HttpRequest.newBuilder(uri("/fhir/" + path))
                .header("Content-Type", "application/fhir+json").PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    private HttpResponse<String> delete(String token, String path) {
        return send(token, HttpRequest.newBuilder(uri("/fhir/" + path)).DELETE());
    }

    HttpResponse<String> send(String token, HttpRequest.Builder request) {
        return sendWithoutToken(request.header("Authorization", "Bearer " + token));
    }
}
