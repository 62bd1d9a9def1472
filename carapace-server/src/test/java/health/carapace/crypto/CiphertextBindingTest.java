package health.carapace.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.UUID;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/**
 * Ciphertext is bound to its row: someone with database access who copies one patient's
 * ciphertext into another patient's row gets an integrity error, never the copied record.
 */
class CiphertextBindingTest extends IntegrationTest {

    @Test
    void ciphertextMovedToAnotherRowFailsToDecrypt() throws Exception {
        IGenericClient client = fhirClient();
        String secret = "Movedaway" + UUID.randomUUID().toString().substring(0, 8);
        Patient source = new Patient();
        source.addName().setFamily(secret);
        IdType sourceId = (IdType) client.create().resource(source).execute().getId();
        Patient target = new Patient();
        target.addName().setFamily("Victim");
        IdType targetId = (IdType) client.create().resource(target).execute().getId();

        String url = TestInstallation.properties().get("carapace.db.url").toString();
        try (Connection owner = DriverManager.getConnection(url, DevDatabase.OWNER, "");
                PreparedStatement copy = owner.prepareStatement("""
                        update phi.resource_version set ciphertext =
                          (select ciphertext from phi.resource_version where resource_id = ? and version = 1)
                        where resource_id = ? and version = 1""")) {
            copy.setObject(1, UUID.fromString(sourceId.getIdPart()));
            copy.setObject(2, UUID.fromString(targetId.getIdPart()));
            assertThat(copy.executeUpdate()).isEqualTo(1);
        }

        HttpResponse<String> read = send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + targetId.getIdPart())).GET());
        assertThat(read.statusCode()).isEqualTo(500);
        assertThat(read.body()).contains("OperationOutcome").contains("integrity").doesNotContain(secret);
        // the source row itself is untouched and still reads
        assertThat(client.read().resource(Patient.class).withId(sourceId.getIdPart()).execute()
                .getNameFirstRep().getFamily()).isEqualTo(secret);
    }

    @Test
    void eachPatientHasItsOwnWrappedDataKey() throws Exception {
        IGenericClient client = fhirClient();
        IdType a = (IdType) client.create().resource(new Patient()).execute().getId();
        IdType b = (IdType) client.create().resource(new Patient()).execute().getId();
        String url = TestInstallation.properties().get("carapace.db.url").toString();
        try (Connection owner = DriverManager.getConnection(url, DevDatabase.OWNER, "");
                PreparedStatement keys = owner.prepareStatement(
                        "select count(distinct wrapped) from keyring.wrapped_key where key_ref in (?, ?)")) {
            keys.setString(1, "dek/Patient/" + a.getIdPart());
            keys.setString(2, "dek/Patient/" + b.getIdPart());
            var rs = keys.executeQuery();
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(2);
        }
    }
}
