package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleType;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

class BundleTest extends IntegrationTest {

    private final String family = "Bundled" + Fakes.letters(6);

    @Test
    void transactionCreatesLinkedResourcesAndRewritesReferences() {
        IGenericClient client = fhirClient();
        Bundle tx = new Bundle().setType(BundleType.TRANSACTION);
        Observation observation = new Observation();
        observation.setStatus(Observation.ObservationStatus.FINAL);
        observation.getCode().addCoding().setSystem("http://loinc.org").setCode("8867-4");
        observation.setSubject(new Reference("urn:uuid:11111111-1111-1111-1111-111111111111"));
        // the observation comes first: the server must still create the patient before it
        tx.addEntry().setResource(observation).getRequest().setMethod(HTTPVerb.POST).setUrl("Observation");
        Patient patient = new Patient();
        patient.addName().setFamily(family);
        tx.addEntry().setFullUrl("urn:uuid:11111111-1111-1111-1111-111111111111").setResource(patient)
                .getRequest().setMethod(HTTPVerb.POST).setUrl("Patient");

        Bundle response = client.transaction().withBundle(tx).execute();
        assertThat(response.getType()).isEqualTo(BundleType.TRANSACTIONRESPONSE);
        assertThat(response.getEntry()).allSatisfy(e -> assertThat(e.getResponse().getStatus()).startsWith("201"));
        String patientId = new IdType(response.getEntry().get(1).getResponse().getLocation()).getIdPart();
        Observation stored = client.read().resource(Observation.class)
                .withId(new IdType(response.getEntry().get(0).getResponse().getLocation()).getIdPart()).execute();
        assertThat(stored.getSubject().getReference()).isEqualTo("Patient/" + patientId);
        Bundle found = client.search().byUrl("Observation?patient=" + patientId).returnBundle(Bundle.class).execute();
        assertThat(found.getEntry()).hasSize(1);
    }

    @Test
    void aFailingEntryRollsBackTheWholeTransaction() {
        IGenericClient client = fhirClient();
        Bundle tx = new Bundle().setType(BundleType.TRANSACTION);
        Patient patient = new Patient();
        patient.addName().setFamily(family);
        tx.addEntry().setResource(patient).getRequest().setMethod(HTTPVerb.POST).setUrl("Patient");
        tx.addEntry().getRequest().setMethod(HTTPVerb.DELETE).setUrl("Patient/" + UUID.randomUUID());

        assertThatThrownBy(() -> client.transaction().withBundle(tx).execute())
                .isInstanceOfSatisfying(BaseServerResponseException.class, e -> assertThat(e.getStatusCode()).isEqualTo(404));
        Bundle found = client.search().byUrl("Patient?family=" + family).returnBundle(Bundle.class).execute();
        assertThat(found.getEntry()).isEmpty();
    }

    @Test
    void batchEntriesSucceedOrFailOnTheirOwn() {
        IGenericClient client = fhirClient();
        Bundle batch = new Bundle().setType(BundleType.BATCH);
        Patient patient = new Patient();
        patient.addName().setFamily(family);
        batch.addEntry().setResource(patient).getRequest().setMethod(HTTPVerb.POST).setUrl("Patient");
        batch.addEntry().getRequest().setMethod(HTTPVerb.GET).setUrl("Patient/" + UUID.randomUUID());

        Bundle response = client.transaction().withBundle(batch).execute();
        assertThat(response.getType()).isEqualTo(BundleType.BATCHRESPONSE);
        assertThat(response.getEntry().get(0).getResponse().getStatus()).startsWith("201");
        assertThat(response.getEntry().get(1).getResponse().getStatus()).isEqualTo("404");
        assertThat(response.getEntry().get(1).getResponse().getOutcome()).isInstanceOf(OperationOutcome.class);
        Bundle found = client.search().byUrl("Patient?family=" + family).returnBundle(Bundle.class).execute();
        assertThat(found.getEntry()).hasSize(1);
    }
}
