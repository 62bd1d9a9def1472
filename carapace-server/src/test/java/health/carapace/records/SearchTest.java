package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Search over encrypted data: blind indexes find candidates, decryption drops false positives,
 * and what cannot be served without leaking is refused with 400.
 */
class SearchTest extends IntegrationTest {

    /** A family-name stem unique to this test run, so results are exact. */
    private final String stem = "Srch" + Fakes.letters(6);
    private IGenericClient client;
    private String patientA;

    @BeforeEach
    void seed() {
        client = fhirClient();
        patientA = create(patient(stem + "ström", "Åsa", "1970-03-04", AdministrativeGender.FEMALE, "A-" + stem));
        create(patient(stem + "son", "Bertil", "1970-03-05", AdministrativeGender.MALE, "B-" + stem));
        create(patient(stem + "berg", "Asa", "1981-12-24", AdministrativeGender.FEMALE, "C-" + stem));
    }

    @Test
    void familyNameIsStartsWithCaseAndAccentInsensitive() {
        assertThat(families("Patient?family=" + enc(stem.toUpperCase()))).hasSize(3);
        assertThat(families("Patient?family=" + enc(stem + "STROM"))).containsExactly(stem + "ström");
        assertThat(families("Patient?family:exact=" + enc(stem + "ström"))).containsExactly(stem + "ström");
        assertThat(families("Patient?family:exact=" + enc(stem + "strom"))).isEmpty();
    }

    @Test
    void nameMatchesGivenOrFamily() {
        assertThat(families("Patient?name=" + enc(stem) + "&given=asa")).containsExactlyInAnyOrder(stem + "ström", stem + "berg");
    }

    @Test
    void shortStringQueriesAreRefused() {
        HttpResponse<String> response = get("Patient?family=ab");
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("at least 3 characters");
    }

    @Test
    void identifierWithAndWithoutSystem() {
        assertThat(families("Patient?identifier=" + enc("urn:test:mrn|A-" + stem))).containsExactly(stem + "ström");
        assertThat(families("Patient?identifier=" + enc("A-" + stem))).containsExactly(stem + "ström");
        assertThat(families("Patient?identifier=" + enc("urn:other|A-" + stem))).isEmpty();
        assertThat(families("Patient?identifier=" + enc("A-" + stem + ",B-" + stem))).hasSize(2);
    }

    @Test
    void birthdateExactDayUsesTheIndexAndRangesNeedNarrowing() {
        assertThat(families("Patient?birthdate=1970-03-04&family=" + enc(stem))).containsExactly(stem + "ström");
        assertThat(get("Patient?birthdate=1970-03-04").statusCode()).isEqualTo(200);
        HttpResponse<String> range = get("Patient?birthdate=ge1970-01-01");
        assertThat(range.statusCode()).isEqualTo(400);
        assertThat(range.body()).contains("blind indexes");
        assertThat(families("Patient?birthdate=ge1975-01-01&family=" + enc(stem))).containsExactly(stem + "berg");
        assertThat(families("Patient?birthdate=1970&family=" + enc(stem))).hasSize(2);
    }

    @Test
    void lowEntropyParametersAloneAreRefusedButFilterWhenNarrowed() {
        assertThat(get("Patient?gender=female").statusCode()).isEqualTo(400);
        assertThat(families("Patient?gender=female&family=" + enc(stem))).hasSize(2);
        assertThat(get("Observation?status=final").statusCode()).isEqualTo(400);
    }

    @Test
    void clinicalSearchByPatientStatusDateAndCode() {
        observation(patientA, "8867-4", "2024-05-01T10:00:00Z", Observation.ObservationStatus.FINAL);
        observation(patientA, "8867-4", "2024-06-01T10:00:00Z", Observation.ObservationStatus.PRELIMINARY);
        observation(patientA, "2708-6", "2024-07-01T10:00:00Z", Observation.ObservationStatus.FINAL);
        assertThat(count("Observation?patient=" + patientA)).isEqualTo(3);
        assertThat(count("Observation?subject=Patient/" + patientA + "&status=final")).isEqualTo(2);
        assertThat(count("Observation?patient=" + patientA + "&date=ge2024-05-15")).isEqualTo(2);
        assertThat(count("Observation?patient=" + patientA + "&date=2024-05")).isEqualTo(1);
        assertThat(count("Observation?patient=" + patientA + "&code=" + enc("http://loinc.org|8867-4"))).isEqualTo(2);
        assertThat(count("Observation?patient=" + patientA + "&code=2708-6&status=final")).isEqualTo(1);
        assertThat(get("Observation?date=2024-05-01").statusCode()).isEqualTo(400);
    }

    @Test
    void pagingFollowsNextLinks() {
        Bundle page = client.search().byUrl("Patient?family=" + enc(stem) + "&_count=2").returnBundle(Bundle.class).execute();
        assertThat(page.getTotal()).isEqualTo(3);
        assertThat(page.getEntry()).hasSize(2);
        assertThat(page.getLink(Bundle.LINK_NEXT)).isNotNull();
        Bundle next = client.loadPage().next(page).execute();
        assertThat(next.getEntry()).hasSize(1);
    }

    @Test
    void pagesAreOnlyHandedToTheClientThatSearched() {
        Bundle page = client.search().byUrl("Patient?family=" + enc(stem) + "&_count=1").returnBundle(Bundle.class).execute();
        String next = page.getLink(Bundle.LINK_NEXT).getUrl();
        var other = serviceClients.create("another-client");
        HttpResponse<String> stolen;
        try {
            stolen = http().send(HttpRequest.newBuilder(URI.create(next))
                    .header("Authorization", "Bearer " + tokenFor(other.clientId(), other.clientSecret())).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        assertThat(stolen.statusCode()).isBetween(400, 499);
        assertThat(stolen.body()).doesNotContain(stem);
        assertThat(send(HttpRequest.newBuilder(URI.create(next)).GET()).statusCode()).isEqualTo(200);
    }

    @Test
    void idAndLastUpdatedAreServedFromMetadata() {
        assertThat(families("Patient?_id=" + patientA)).containsExactly(stem + "ström");
        assertThat(count("Patient?_id=" + patientA + "&_lastUpdated=gt2000-01-01")).isEqualTo(1);
        assertThat(count("Patient?_id=" + patientA + "&_lastUpdated=lt2000-01-01")).isZero();
    }

    @Test
    void unsupportedParametersAndModifiersAreRefusedWithoutEchoingThem() {
        HttpResponse<String> unknown = get("Patient?secretvalue123=x");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).doesNotContain("secretvalue123");
        assertThat(get("Patient?family:contains=" + enc(stem)).statusCode()).isEqualTo(400);
        HttpResponse<String> unknownSort = get("Patient?family=" + enc(stem) + "&_sort=secretvalue123");
        assertThat(unknownSort.statusCode()).isEqualTo(400);
        assertThat(unknownSort.body()).doesNotContain("secretvalue123");
    }

    private Patient patient(String family, String given, String birthDate, AdministrativeGender gender, String mrn) {
        Patient p = new Patient();
        p.addName().setFamily(family).addGiven(given);
        p.setBirthDateElement(new DateType(birthDate));
        p.setGender(gender);
        p.addIdentifier().setSystem("urn:test:mrn").setValue(mrn);
        return p;
    }

    private void observation(String patientId, String code, String when, Observation.ObservationStatus status) {
        Observation o = new Observation();
        o.setStatus(status);
        o.getCode().addCoding().setSystem("http://loinc.org").setCode(code);
        o.setSubject(new Reference("Patient/" + patientId));
        o.setEffective(new DateTimeType(when));
        create(o);
    }

    private String create(org.hl7.fhir.r4.model.Resource resource) {
        return ((IdType) client.create().resource(resource).execute().getId()).getIdPart();
    }

    private List<String> families(String query) {
        Bundle bundle = client.search().byUrl(query).returnBundle(Bundle.class).execute();
        return bundle.getEntry().stream().map(e -> ((Patient) e.getResource()).getNameFirstRep().getFamily()).toList();
    }

    private int count(String query) {
        return client.search().byUrl(query).returnBundle(Bundle.class).execute().getEntry().size();
    }

    private HttpResponse<String> get(String query) {
        return send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + query)).GET());
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
