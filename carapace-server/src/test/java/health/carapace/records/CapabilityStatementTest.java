package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.junit.jupiter.api.Test;

class CapabilityStatementTest extends IntegrationTest {

    @Test
    void metadataIsPublicAndTellsWhatIsSupported() throws Exception {
        HttpResponse<String> response = http().send(HttpRequest.newBuilder(URI.create(fhirBase() + "/metadata")).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        CapabilityStatement cs = fhir.newJsonParser().parseResource(CapabilityStatement.class, response.body());
        assertThat(cs.getFhirVersion().toCode()).isEqualTo("4.0.1");
        assertThat(cs.getRestFirstRep().getResource()).extracting(CapabilityStatementRestResourceComponent::getType)
                .containsExactlyInAnyOrder("Patient", "Practitioner", "Organization", "Encounter", "Observation",
                        "Condition", "AllergyIntolerance", "MedicationRequest", "Procedure", "DiagnosticReport",
                        "ImagingStudy", "DocumentReference", "Immunization", "CarePlan", "CareTeam", "Appointment", "AuditEvent",
                        "Location", "PractitionerRole", "Medication", "Questionnaire", "RelatedPerson", "Coverage", "Goal",
                        "ServiceRequest", "MedicationAdministration", "MedicationDispense", "Device", "Specimen",
                        "QuestionnaireResponse", "Provenance", "Group");
        CapabilityStatementRestResourceComponent patient = cs.getRestFirstRep().getResource().stream()
                .filter(r -> r.getType().equals("Patient")).findFirst().orElseThrow();
        assertThat(patient.getUpdateCreate()).isFalse();
        assertThat(patient.getConditionalCreate()).isTrue();
        assertThat(patient.getOperation()).extracting(o -> o.getName()).contains("everything");
        assertThat(patient.getSearchRevInclude()).extracting(r -> r.getValue()).contains("Observation:patient");
        assertThat(patient.getSearchParam()).extracting(p -> p.getName())
                .contains("identifier", "family", "given", "name", "birthdate", "gender", "_id", "_lastUpdated");
        assertThat(cs.getRestFirstRep().getInteraction()).extracting(i -> i.getCode().toCode())
                .containsExactlyInAnyOrder("transaction", "batch", "history-system");
        assertThat(cs.getRestFirstRep().getOperation()).extracting(o -> o.getName())
                .containsExactlyInAnyOrder("break-glass", "break-glass-close");
        assertThat(cs.getRestFirstRep().getSecurity().getServiceFirstRep().getCodingFirstRep().getCode()).isEqualTo("OAuth");
    }
}
