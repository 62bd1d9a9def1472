package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import health.carapace.testing.IntegrationTest;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Enumerations.AdministrativeGender;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

class RecordLifecycleTest extends IntegrationTest {

    @Test
    void createReadUpdateVreadDeleteAndHistory() {
        IGenericClient client = fhirClient();
        Patient patient = new Patient();
        patient.addName().setFamily("Lifecycle").addGiven("Ada");
        patient.setGender(AdministrativeGender.FEMALE);
        MethodOutcome created = client.create().resource(patient).execute();
        IdType id = (IdType) created.getId();
        assertThat(id.getVersionIdPart()).isEqualTo("1");

        Patient read = client.read().resource(Patient.class).withId(id.getIdPart()).execute();
        assertThat(read.getNameFirstRep().getFamily()).isEqualTo("Lifecycle");

        read.getNameFirstRep().setFamily("Lifecycled");
        MethodOutcome updated = client.update().resource(read).execute();
        assertThat(updated.getId().getVersionIdPart()).isEqualTo("2");

        Patient v1 = client.read().resource(Patient.class).withIdAndVersion(id.getIdPart(), "1").execute();
        assertThat(v1.getNameFirstRep().getFamily()).isEqualTo("Lifecycle");

        client.delete().resourceById("Patient", id.getIdPart()).execute();
        assertThatThrownBy(() -> client.read().resource(Patient.class).withId(id.getIdPart()).execute())
                .isInstanceOf(ResourceGoneException.class);

        Bundle history = client.history().onInstance(id.toUnqualifiedVersionless()).returnBundle(Bundle.class).execute();
        assertThat(history.getEntry()).hasSize(3);
    }

    @Test
    void updateWithStaleIfMatchIsRefusedWith412() {
        IGenericClient client = fhirClient();
        Patient patient = new Patient();
        patient.addName().setFamily("Versioned");
        IdType id = (IdType) client.create().resource(patient).execute().getId();
        Patient current = client.read().resource(Patient.class).withId(id.getIdPart()).execute();
        client.update().resource(current).withId(id.toUnqualifiedVersionless()).execute();

        current.setId(id.withVersion("1"));
        assertThatThrownBy(() -> client.update().resource(current).withId(id.withVersion("1")).execute())
                .isInstanceOf(PreconditionFailedException.class);
    }

    @Test
    void observationsAreFoundByPatientAndCode() {
        IGenericClient client = fhirClient();
        Patient patient = new Patient();
        patient.addIdentifier().setSystem("urn:test:mrn").setValue("MRN-LIFE-1");
        IdType patientId = (IdType) client.create().resource(patient).execute().getId();
        Observation observation = new Observation();
        observation.setStatus(Observation.ObservationStatus.FINAL);
        observation.getCode().addCoding().setSystem("http://loinc.org").setCode("8867-4");
        observation.setSubject(new Reference("Patient/" + patientId.getIdPart()));
        client.create().resource(observation).execute();

        Bundle byPatient = client.search().forResource(Observation.class)
                .where(Observation.PATIENT.hasId(patientId.getIdPart()))
                .returnBundle(Bundle.class).execute();
        assertThat(byPatient.getEntry()).hasSize(1);

        Bundle byCode = client.search().forResource(Observation.class)
                .where(Observation.CODE.exactly().systemAndCode("http://loinc.org", "8867-4"))
                .and(Observation.SUBJECT.hasId("Patient/" + patientId.getIdPart()))
                .returnBundle(Bundle.class).execute();
        assertThat(byCode.getEntry()).hasSize(1);

        Bundle byIdentifier = client.search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndIdentifier("urn:test:mrn", "MRN-LIFE-1"))
                .returnBundle(Bundle.class).execute();
        assertThat(byIdentifier.getEntry()).hasSize(1);
    }

    @Test
    void xmlInAndJsonOrXmlOut() {
        String xml = "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"Xmlson\"/></name></Patient>";
        var created = send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(fhirBase() + "/Patient"))
                .header("Content-Type", "application/fhir+xml")
                .header("Accept", "application/fhir+xml")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(xml)));
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(created.body()).startsWith("<Patient").contains("Xmlson");
        String location = created.headers().firstValue("Location").orElseThrow();
        String id = new IdType(location).getIdPart();
        var asJson = send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(fhirBase() + "/Patient/" + id))
                .header("Accept", "application/fhir+json").GET());
        assertThat(asJson.headers().firstValue("Content-Type").orElseThrow()).contains("json");
        assertThat(asJson.body()).contains("\"family\":\"Xmlson\"");
    }

    @Test
    void clientAssignedIdsAreRefused() {
        Patient patient = new Patient();
        patient.setId("my-own-id");
        assertThatThrownBy(() -> fhirClient().update().resource(patient).execute())
                .isInstanceOfSatisfying(ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException.class,
                        e -> assertThat(e.getStatusCode()).isEqualTo(405));
    }

    /** A patient-linked type names its patient (else it would be shared: review F1, PatientLinkedRecordsTest). */
    @Test
    void everyDeclaredResourceTypeCanBeCreatedAndRead() {
        IGenericClient client = fhirClient();
        String patient = client.create().resource(new Patient()).execute().getId().getIdPart();
        for (String type : java.util.List.of("Patient", "Practitioner", "Organization", "Encounter", "Observation",
                "Condition", "AllergyIntolerance", "MedicationRequest", "Procedure", "DiagnosticReport", "ImagingStudy",
                "DocumentReference", "Immunization", "CarePlan", "CareTeam")) {
            org.hl7.fhir.instance.model.api.IBaseResource resource = fhir.getResourceDefinition(type).newInstance();
            String link = switch (type) {
                case "Patient", "Practitioner", "Organization" -> null;
                case "AllergyIntolerance", "Immunization" -> "patient";
                default -> "subject";
            };
            if (link != null) {
                ((org.hl7.fhir.r4.model.Base) resource).setProperty(link,
                        new org.hl7.fhir.r4.model.Reference("Patient/" + patient));
            }
            IdType id = (IdType) client.create().resource(resource).execute().getId();
            assertThat(client.read().resource(type).withId(id.getIdPart()).execute().getIdElement().getIdPart())
                    .isEqualTo(id.getIdPart());
        }
    }
}
