package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SyntheticDataTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void sameSeedGivesTheSamePatientsAndObservations() {
        SyntheticData first = new SyntheticData(42);
        SyntheticData second = new SyntheticData(42);
        for (int i = 0; i < 50; i++) {
            assertThat(second.patient(SyntheticData.Stream.DATASET, i)).isEqualTo(first.patient(SyntheticData.Stream.DATASET, i));
            assertThat(second.observation(SyntheticData.Stream.CREATED, i, "p-1"))
                    .isEqualTo(first.observation(SyntheticData.Stream.CREATED, i, "p-1"));
        }
    }

    @Test
    void aPinnedSeedKeepsProducingTheSameFirstPatient() {
        // Guards reproducibility across versions: a change here changes every published figure's data.
        String patient = new SyntheticData(42).patient(SyntheticData.Stream.DATASET, 0);
        assertThat(patient).contains("\"value\":\"173460000000\"").contains("\"family\":\"Thomas\"")
                .contains("\"birthDate\":\"1980-01-18\"");
    }

    @Test
    void differentSeedsGiveDifferentData() {
        assertThat(new SyntheticData(1).patient(SyntheticData.Stream.DATASET, 0))
                .isNotEqualTo(new SyntheticData(2).patient(SyntheticData.Stream.DATASET, 0));
    }

    @Test
    void aRecordDoesNotDependOnTheOrderRecordsAreGeneratedIn() {
        SyntheticData inOrder = new SyntheticData(7);
        for (int i = 0; i < 10; i++) {
            inOrder.patient(SyntheticData.Stream.DATASET, i);
        }
        String tenthAfterOthers = inOrder.patient(SyntheticData.Stream.DATASET, 10);
        assertThat(new SyntheticData(7).patient(SyntheticData.Stream.DATASET, 10)).isEqualTo(tenthAfterOthers);
    }

    @Test
    void medicalRecordNumbersAreUniqueWithinAStreamAndNeverSharedAcrossStreams() {
        SyntheticData data = new SyntheticData(42);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 20_000; i++) {
            assertThat(seen.add(data.mrn(SyntheticData.Stream.DATASET, i))).isTrue();
            assertThat(seen.add(data.mrn(SyntheticData.Stream.CREATED, i))).isTrue();
        }
        assertThat(data.mrn(SyntheticData.Stream.CREATED, 123)).hasSize(12).containsOnlyDigits();
    }

    @Test
    void patientsAreRealisticFhirJsonCarryingTheirMrn() throws Exception {
        SyntheticData data = new SyntheticData(42);
        JsonNode patient = JSON.readTree(data.patient(SyntheticData.Stream.DATASET, 3));
        assertThat(patient.path("resourceType").asText()).isEqualTo("Patient");
        assertThat(patient.path("identifier").get(0).path("system").asText()).isEqualTo(SyntheticData.MRN_SYSTEM);
        assertThat(patient.path("identifier").get(0).path("value").asText())
                .isEqualTo(data.mrn(SyntheticData.Stream.DATASET, 3));
        assertThat(patient.path("name").get(0).path("family").asText()).isNotBlank();
        assertThat(patient.path("name").get(0).path("given")).hasSize(2);
        assertThat(patient.path("gender").asText()).isIn("female", "male");
        assertThat(patient.path("birthDate").asText()).matches("(19[3-9]\\d|20[0-2]\\d)-\\d{2}-\\d{2}");
        assertThat(patient.path("address").get(0).path("postalCode").asText()).matches("\\d{5}");
    }

    @Test
    void observationsAreLoincCodedWithAValueUnitAndDateAboutTheGivenPatient() throws Exception {
        JsonNode observation = JSON.readTree(new SyntheticData(42).observation(SyntheticData.Stream.DATASET, 9, "abc-123"));
        assertThat(observation.path("resourceType").asText()).isEqualTo("Observation");
        assertThat(observation.path("status").asText()).isEqualTo("final");
        assertThat(observation.path("code").path("coding").get(0).path("system").asText()).isEqualTo("http://loinc.org");
        assertThat(observation.path("code").path("coding").get(0).path("code").asText()).matches("\\d{1,5}-\\d");
        assertThat(observation.path("subject").path("reference").asText()).isEqualTo("Patient/abc-123");
        assertThat(observation.path("effectiveDateTime").asText()).matches("20(19|2[0-5])-\\d{2}-\\d{2}T.*Z");
        assertThat(observation.path("valueQuantity").path("value").isNumber()).isTrue();
        assertThat(observation.path("valueQuantity").path("system").asText()).isEqualTo("http://unitsofmeasure.org");
    }

    @Test
    void aTemplateJoinedAroundItsMrnIsTheCompletePatient() {
        SyntheticData data = new SyntheticData(42);
        SyntheticData.PatientTemplate template = data.patientTemplate(SyntheticData.Stream.CREATED, 5);
        String joined = new String(template.beforeMrn(), StandardCharsets.UTF_8) + data.mrn(SyntheticData.Stream.CREATED, 5)
                + new String(template.afterMrn(), StandardCharsets.UTF_8);
        assertThat(joined).isEqualTo(data.patient(SyntheticData.Stream.CREATED, 5));
    }

    @Test
    void namesWithApostrophesAndAccentsStayValidJson() throws Exception {
        assertThat(JSON.readTree(SyntheticData.quote("O'Brien \"Chloé\" \\ \n")).asText()).isEqualTo("O'Brien \"Chloé\" \\ \n");
        SyntheticData data = new SyntheticData(3);
        for (int i = 0; i < 500; i++) {
            JSON.readTree(data.patient(SyntheticData.Stream.DATASET, i));
        }
    }
}
