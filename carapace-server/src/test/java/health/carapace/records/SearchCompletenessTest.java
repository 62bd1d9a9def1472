package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.access.CareRelationships;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditQueries;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.RawHttp;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLSocket;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Searches and reads as real clients send them (issue 17): {@code _include}/{@code _revinclude}
 * decided per included type and narrowed to the caller's scope, {@code _sort}, {@code $everything},
 * history of a type and of the server narrowed to scope with a {@code request} on every entry,
 * raw {@code |} in the query, identifier search without a system for a caller without view:ssn,
 * and the directory searchable by name and identifier.
 */
class SearchCompletenessTest extends IntegrationTest {

    private static final String SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn";

    @Autowired
    CareRelationships relationships;

    @Autowired
    AuditQueries auditQueries;

    private final String stem = "Cmpl" + Fakes.letters(8);
    private final String ssn = "9" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + Fakes.digits(4);
    private String inCare;
    private String outsider;
    private String practitioner;
    private String inCareObservation;
    private ServiceClients.Credentials clinician;
    private String clinicianToken;

    @BeforeEach
    void twoPatientsWithObservationsAndAClinicianCaringForOne() {
        practitioner = create("Practitioner", "{\"resourceType\":\"Practitioner\",\"identifier\":[{\"system\":"
                + "\"http://hl7.org/fhir/sid/us-npi\",\"value\":\"NPI" + stem + "\"}],\"name\":[{\"family\":\"" + stem
                + "doc\",\"given\":[\"Greta\"]}]}");
        inCare = create("Patient", patient(stem + "in", "MRN-" + stem + "-1"));
        outsider = create("Patient", patient(stem + "out", "MRN-" + stem + "-2"));
        inCareObservation = create("Observation", observation(inCare, "2024-01-02"));
        create("Observation", observation(inCare, "2023-05-06"));
        create("Observation", observation(outsider, "2024-02-03"));
        clinician = client("completeness-clinician", TestPolicy.CLINICIAN);
        clinicianToken = tokenFor(clinician.clientId(), clinician.clientSecret());
        relationships.assign(clinician.clientId(), "Patient/" + inCare, "test-admin", AuditContext.none());
    }

    @Test
    void includeBringsThePatientAndPerformerAlongMarkedAsIncludes() {
        Bundle bundle = search(token(), "Observation?patient=" + inCare
                + "&_include=Observation:patient&_include=Observation:performer");
        assertThat(bundle.getTotal()).isEqualTo(2);
        assertThat(matches(bundle)).hasSize(2);
        assertThat(included(bundle)).containsExactlyInAnyOrder("Patient/" + inCare, "Practitioner/" + practitioner);
    }

    @Test
    void includedRecordsAreNarrowedToTheCallersScopeAndATypeItMayNotReadIsLeftOutAndAuditedAsDenied() {
        // the clinician has no view:directory: the Practitioner is left out (no error), the denial audited
        Bundle mine = search(clinicianToken, "Observation?patient=" + inCare
                + "&_include=Observation:patient&_include=Observation:performer");
        assertThat(included(mine)).containsExactly("Patient/" + inCare);
        assertThat(auditQueries.search(new AuditQueries.Criteria(null, clinician.clientId(), null, null,
                List.of("denied"), false, 100))).anySatisfy(event -> {
                    assertThat(event.resource()).isEqualTo("/fhir/Practitioner");
                    assertThat(event.reason()).isEqualTo("no-permission");
                });
        // a Patient outside the care relationship reached through another record's reference: nothing
        String linked = create("Patient", "{\"resourceType\":\"Patient\",\"link\":[{\"other\":{\"reference\":\"Patient/"
                + outsider + "\"},\"type\":\"seealso\"}]}");
        relationships.assign(clinician.clientId(), "Patient/" + linked, "test-admin", AuditContext.none());
        Bundle linkedBundle = search(clinicianToken, "Patient?_id=" + linked + "&_include=Patient:link");
        assertThat(matches(linkedBundle)).containsExactly("Patient/" + linked);
        assertThat(included(linkedBundle)).isEmpty();
        assertThat(included(search(token(), "Patient?_id=" + linked + "&_include=Patient:link")))
                .containsExactly("Patient/" + outsider);
    }

    @Test
    void includedPatientsAreMaskedForACallerWithoutViewSsn() {
        String withSsn = create("Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + SSN_SYSTEM
                + "\",\"value\":\"" + ssn + "\"}],\"name\":[{\"family\":\"" + stem + "ssn\"}]}");
        create("Observation", observation(withSsn, "2024-03-04"));
        String frontDesk = tokenWithRoles("completeness-front-desk", "records-service");
        HttpResponse<String> response = get(frontDesk, "Observation?patient=" + withSsn + "&_include=Observation:patient");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).doesNotContain(ssn).contains("***-**-" + ssn.substring(7));
        HttpResponse<String> reverse = get(frontDesk, "Patient?_id=" + withSsn + "&_revinclude=Observation:patient");
        assertThat(reverse.body()).doesNotContain(ssn);
        assertThat(included(bundle(reverse))).hasSize(1);
    }

    @Test
    void revincludeBringsThePatientsRecordsInScopeOnly() {
        Bundle all = search(token(), "Patient?_id=" + inCare + "," + outsider + "&_revinclude=Observation:patient");
        assertThat(matches(all)).hasSize(2);
        assertThat(included(all)).hasSize(3);
        Bundle mine = search(clinicianToken, "Patient?_id=" + inCare + "," + outsider + "&_revinclude=Observation:subject");
        assertThat(matches(mine)).containsExactly("Patient/" + inCare);
        assertThat(included(mine)).hasSize(2).allSatisfy(id -> assertThat(id).startsWith("Observation/"));
    }

    @Test
    void includeAndRevincludeOfUnknownReferencesAreRefusedWithoutEcho() {
        for (String query : List.of("Observation?patient=" + inCare + "&_include=Observation:zqsecret",
                "Observation?patient=" + inCare + "&_include=*",
                "Observation?patient=" + inCare + "&_include=Patient:link",
                "Patient?_id=" + inCare + "&_revinclude=Observation:performer",
                "Observation?patient=" + inCare + "&_revinclude=Observation:patient",
                "Patient?_id=" + inCare + "&_revinclude:iterate=Observation:patient",
                "Observation?patient=" + inCare + "&_sort=zqsecret",
                "Patient?_id=" + inCare + "&_sort=identifier")) {
            HttpResponse<String> response = get(token(), query);
            assertThat(response.statusCode()).as(query).isEqualTo(400);
            assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getSeverity())
                    .isEqualTo(OperationOutcome.IssueSeverity.ERROR);
            assertThat(response.body()).doesNotContain("zqsecret");
        }
    }

    /** Review finding F6: a sort by an encrypted key decrypts every candidate, so it needs a narrowing criterion. */
    @Test
    void aSortByAnEncryptedKeyNeedsANarrowingCriterion() {
        for (String query : List.of("Observation?_sort=date", "Patient?_sort=-family")) {
            HttpResponse<String> response = get(token(), query);
            assertThat(response.statusCode()).as(query).isEqualTo(400);
            assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getDiagnostics()).contains("narrowing");
        }
        assertThat(get(token(), "Observation?_sort=-_lastUpdated&_count=1").statusCode()).isEqualTo(200);
        assertThat(get(token(), "Observation?patient=" + inCare + "&_sort=date").statusCode()).isEqualTo(200);
    }

    @Test
    void includeIterateFollowsOneMoreLevel() {
        String role = create("PractitionerRole", "{\"resourceType\":\"PractitionerRole\",\"practitioner\":{\"reference\":"
                + "\"Practitioner/" + practitioner + "\"}}");
        String encounter = create("Encounter", "{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":{"
                + "\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"AMB\"},\"subject\":{"
                + "\"reference\":\"Patient/" + inCare + "\"},\"participant\":[{\"individual\":{\"reference\":"
                + "\"PractitionerRole/" + role + "\"}}]}");
        Bundle bundle = search(token(), "Encounter?_id=" + encounter + "&_include=Encounter:practitioner"
                + "&_include:iterate=PractitionerRole:practitioner");
        assertThat(included(bundle)).containsExactlyInAnyOrder("PractitionerRole/" + role, "Practitioner/" + practitioner);
    }

    @Test
    void sortOrdersByLastUpdatedInSqlAndByDecryptedDatesWithinTheCandidates() {
        List<String> byDate = dates(search(token(), "Observation?patient=" + inCare + "&_sort=date"));
        assertThat(byDate).containsExactly("2023-05-06", "2024-01-02");
        assertThat(dates(search(token(), "Observation?patient=" + inCare + "&_sort=-date")))
                .containsExactly("2024-01-02", "2023-05-06");
        List<String> newestFirst = matches(search(token(), "Observation?patient=" + inCare + "&_sort=-_lastUpdated"));
        List<String> oldestFirst = matches(search(token(), "Observation?patient=" + inCare + "&_sort=_lastUpdated"));
        List<String> reversed = new java.util.ArrayList<>(oldestFirst);
        java.util.Collections.reverse(reversed);
        assertThat(newestFirst).hasSize(2).containsExactlyElementsOf(reversed);
        assertThat(matches(search(token(), "Patient?_id=" + inCare + "," + outsider + "&_sort=-family")))
                .containsExactly("Patient/" + outsider, "Patient/" + inCare);
    }

    @Test
    void everythingReturnsThePatientsRecordsInScopeWithSinceTypeAndPaging() {
        Bundle all = search(token(), "Patient/" + inCare + "/$everything");
        assertThat(matches(all)).hasSize(3).contains("Patient/" + inCare);
        assertThat(matches(search(token(), "Patient/" + inCare + "/$everything?_type=Observation"))).hasSize(2)
                .allSatisfy(id -> assertThat(id).startsWith("Observation/"));
        assertThat(matches(search(token(), "Patient/" + inCare + "/$everything?_since=2999-01-01T00:00:00Z"))).isEmpty();
        Bundle first = search(token(), "Patient/" + inCare + "/$everything?_count=2");
        assertThat(first.getEntry()).hasSize(2);
        assertThat(first.getLink(Bundle.LINK_NEXT)).isNotNull();
        Bundle second = bundle(send(token(), HttpRequest.newBuilder(java.net.URI.create(
                first.getLink(Bundle.LINK_NEXT).getUrl())).GET()));
        assertThat(second.getEntry()).hasSize(1);

        assertThat(matches(search(clinicianToken, "Patient/" + inCare + "/$everything"))).hasSize(3);
        AccessEnforcementTest.assertRefused(get(clinicianToken, "Patient/" + outsider + "/$everything"),
                "no-care-relationship");
        assertThat(get(token(), "Patient/" + java.util.UUID.randomUUID() + "/$everything").statusCode()).isEqualTo(404);
        HttpResponse<String> badType = get(token(), "Patient/" + inCare + "/$everything?_type=Zqsecret");
        assertThat(badType.statusCode()).isEqualTo(400);
        assertThat(badType.body()).doesNotContain("Zqsecret");
    }

    @Test
    void typeAndServerHistoryAreNarrowedToScopeAndEveryEntryHasItsRequest() {
        HttpResponse<String> updated = send(token(), HttpRequest.newBuilder(uri("/fhir/Patient/" + inCare))
                .header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString(patient(stem + "in", "MRN-" + stem + "-1")
                        .replace("{\"resourceType\":\"Patient\",", "{\"resourceType\":\"Patient\",\"id\":\"" + inCare + "\","))));
        assertThat(updated.statusCode()).isEqualTo(200);
        Bundle mine = search(clinicianToken, "Patient/_history?_count=100");
        assertThat(mine.getType()).isEqualTo(Bundle.BundleType.HISTORY);
        assertThat(mine.getEntry()).filteredOn(e -> e.hasResource())
                .extracting(e -> e.getResource().getIdElement().getIdPart()).containsOnly(inCare).hasSize(2);
        assertThat(mine.getEntry()).allSatisfy(entry -> assertThat(entry.getRequest().hasMethod()).isTrue());
        assertThat(mine.getEntry()).filteredOn(e -> e.hasResource()).extracting(e -> e.getRequest().getMethod())
                .containsExactly(Bundle.HTTPVerb.PUT, Bundle.HTTPVerb.POST);
        Bundle server = search(clinicianToken, "_history?_count=100");
        assertThat(server.getEntry()).allSatisfy(entry -> assertThat(entry.getRequest().hasMethod()).isTrue());
        assertThat(server.getEntry()).filteredOn(e -> e.hasResource()).extracting(e -> e.getResource().getIdElement().getIdPart())
                .doesNotContain(outsider, practitioner).contains(inCare, inCareObservation);
        Bundle everyone = search(token(), "Patient/_history?_since=" + enc(java.time.Instant.now().minusSeconds(600).toString())
                + "&_count=100");
        assertThat(everyone.getEntry()).filteredOn(e -> e.hasResource())
                .extracting(e -> e.getResource().getIdElement().getIdPart())
                .contains(inCare, outsider);
        AccessEnforcementTest.assertRefused(get(tokenWithRoles("completeness-auditor", TestPolicy.AUDITOR), "_history"),
                "no-permission");
    }

    @Test
    void aRawBarInTheQueryIsAcceptedAsTheSpecificationWritesIt() throws IOException {
        RawHttp.Response response = raw("GET /fhir/Patient?identifier=urn:zq:mrn|MRN-" + stem + "-1&_count=[5]{}");
        // the bar is read as the token's separator; the braces and brackets reach the application and
        // are refused there as an invalid count, in an OperationOutcome
        assertThat(response.status()).isEqualTo(400);
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getSeverity()).isEqualTo(OperationOutcome.IssueSeverity.ERROR);
        RawHttp.Response found = raw("GET /fhir/Patient?identifier=urn:zq:mrn|MRN-" + stem + "-1");
        assertThat(found.status()).isEqualTo(200);
        assertThat(found.body()).contains(inCare).doesNotContain(outsider);
        // still refused by the container: a raw space or quote (answered by the valve, not Tomcat's page)
        RawHttp.Response refused = raw("GET /fhir/Patient?identifier=a\"b");
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.header("content-type").orElse("")).contains("fhir+json");
    }

    @Test
    void identifierWithoutASystemIsServedWithoutViewSsnAndNeverMatchesAnSsn() {
        String frontDesk = tokenWithRoles("completeness-no-system", "records-service");
        Bundle found = search(frontDesk, "Patient?identifier=" + enc("MRN-" + stem + "-1"));
        assertThat(matches(found)).containsExactly("Patient/" + inCare);
        // an SSN typed under its system is never a match for it, whatever its value looks like
        String hidden = "ZQ" + Fakes.digits(8);
        create("Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + SSN_SYSTEM + "\",\"value\":\""
                + hidden + "\"}]}");
        assertThat(search(frontDesk, "Patient?identifier=" + hidden).getTotal()).isZero();
        assertThat(search(token(), "Patient?identifier=" + hidden).getTotal()).isEqualTo(1);
    }

    @Test
    void practitionersAndOrganizationsAreSearchableByNameAndIdentifier() {
        String organization = create("Organization", "{\"resourceType\":\"Organization\",\"identifier\":[{\"system\":"
                + "\"urn:zq:org\",\"value\":\"ORG" + stem + "\"}],\"name\":\"" + stem + " Clinic\"}");
        assertThat(matches(search(token(), "Practitioner?name=" + stem.toLowerCase() + "doc")))
                .containsExactly("Practitioner/" + practitioner);
        assertThat(matches(search(token(), "Practitioner?identifier=" + enc("http://hl7.org/fhir/sid/us-npi|NPI" + stem))))
                .containsExactly("Practitioner/" + practitioner);
        assertThat(matches(search(token(), "Organization?name=" + stem))).containsExactly("Organization/" + organization);
        assertThat(matches(search(token(), "Organization?identifier=ORG" + stem))).containsExactly("Organization/" + organization);
    }

    @Test
    void theNewTypesAreServedInTheirPatientsCompartment() {
        for (String type : List.of("Goal", "ServiceRequest", "Specimen", "QuestionnaireResponse", "Device")) {
            String body = switch (type) {
                case "Goal" -> "{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\",\"description\":{\"text\":\"walk\"},"
                        + "\"subject\":{\"reference\":\"Patient/" + inCare + "\"}}";
                case "ServiceRequest" -> "{\"resourceType\":\"ServiceRequest\",\"status\":\"active\",\"intent\":\"order\","
                        + "\"subject\":{\"reference\":\"Patient/" + inCare + "\"}}";
                case "Specimen" -> "{\"resourceType\":\"Specimen\",\"subject\":{\"reference\":\"Patient/" + inCare + "\"}}";
                case "QuestionnaireResponse" -> "{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\","
                        + "\"subject\":{\"reference\":\"Patient/" + inCare + "\"}}";
                default -> "{\"resourceType\":\"Device\",\"patient\":{\"reference\":\"Patient/" + inCare + "\"}}";
            };
            String id = create(type, body);
            assertThat(get(clinicianToken, type + "/" + id).statusCode()).as(type).isEqualTo(200);
            assertThat(matches(search(clinicianToken, type + "?patient=" + inCare))).as(type).containsExactly(type + "/" + id);
            assertThat(search(clinicianToken, type + "?patient=" + outsider).getTotal()).as(type).isZero();
        }
        String dispense = create("MedicationDispense", "{\"resourceType\":\"MedicationDispense\",\"status\":\"completed\","
                + "\"medicationCodeableConcept\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + inCare + "\"}}");
        assertThat(get(clinicianToken, "MedicationDispense/" + dispense).statusCode()).isEqualTo(200);
        String coverage = create("Coverage", "{\"resourceType\":\"Coverage\",\"status\":\"active\",\"beneficiary\":{"
                + "\"reference\":\"Patient/" + outsider + "\"},\"payor\":[{\"reference\":\"Patient/" + outsider + "\"}]}");
        AccessEnforcementTest.assertRefused(get(clinicianToken, "Coverage/" + coverage), "no-care-relationship");
    }

    // --- helpers

    private static String patient(String family, String mrn) {
        return "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:zq:mrn\",\"value\":\"" + mrn + "\"}],"
                + "\"name\":[{\"family\":\"" + family + "\",\"given\":[\"Ola\"]}]}";
    }

    private String observation(String patient, String date) {
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                + "\"code\":\"8867-4\"}]},\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"effectiveDateTime\":\""
                + date + "\",\"performer\":[{\"reference\":\"Practitioner/" + practitioner + "\"}]}";
    }

    private String create(String type, String json) {
        HttpResponse<String> response = send(token(), HttpRequest.newBuilder(uri("/fhir/" + type))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
        assertThat(response.statusCode()).as(type + " " + response.body()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    private HttpResponse<String> get(String token, String path) {
        return send(token, HttpRequest.newBuilder(uri("/fhir/" + path)).GET());
    }

    private HttpResponse<String> send(String token, HttpRequest.Builder request) {
        return sendWithoutToken(request.header("Authorization", "Bearer " + token));
    }

    private Bundle search(String token, String path) {
        HttpResponse<String> response = get(token, path);
        assertThat(response.statusCode()).as(path + " " + response.body()).isEqualTo(200);
        return bundle(response);
    }

    private Bundle bundle(HttpResponse<String> response) {
        return fhir.newJsonParser().parseResource(Bundle.class, response.body());
    }

    private static List<String> matches(Bundle bundle) {
        return bundle.getEntry().stream()
                .filter(e -> !e.hasSearch() || e.getSearch().getMode() != Bundle.SearchEntryMode.INCLUDE)
                .map(e -> e.getResource().getIdElement().toUnqualifiedVersionless().getValue()).toList();
    }

    private static Set<String> included(Bundle bundle) {
        return bundle.getEntry().stream()
                .filter(e -> e.hasSearch() && e.getSearch().getMode() == Bundle.SearchEntryMode.INCLUDE)
                .map(e -> e.getResource().getIdElement().toUnqualifiedVersionless().getValue())
                .collect(Collectors.toSet());
    }

    private static List<String> dates(Bundle bundle) {
        return bundle.getEntry().stream().map(e -> ((org.hl7.fhir.r4.model.Observation) e.getResource())
                .getEffectiveDateTimeType().getValueAsString()).toList();
    }

    private RawHttp.Response raw(String requestLine) throws IOException {
        try (SSLSocket socket = (SSLSocket) TestInstallation.trustingSslContext(TestInstallation.dataDir())
                .getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write((requestLine + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                    + token() + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            return RawHttp.read(socket.getInputStream());
        }
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
