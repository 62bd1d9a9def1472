package health.carapace.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The PHI role cannot read the keyring, the keyring role cannot read PHI, and stored versions
 * are immutable for the application: keys live apart from the data they protect.
 */
class KeySeparationTest extends IntegrationTest {

    private final String url = TestInstallation.properties().get("carapace.db.url").toString();

    @BeforeEach
    void atLeastOneRecordAndKey() {
        Patient patient = new Patient();
        patient.addName().setFamily("Separate");
        fhirClient().create().resource(patient).execute();
    }

    @Test
    void phiRoleCannotReadTheKeyring() throws SQLException {
        try (Connection phi = DriverManager.getConnection(url, DevDatabase.PHI_ROLE, "")) {
            assertThatThrownBy(() -> phi.createStatement().executeQuery("select * from keyring.wrapped_key"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
            assertThat(phi.createStatement().executeQuery("select count(*) from phi.resource_version").next()).isTrue();
        }
    }

    @Test
    void keyringRoleCannotReadRecords() throws SQLException {
        try (Connection keyring = DriverManager.getConnection(url, DevDatabase.KEYRING_ROLE, "")) {
            assertThatThrownBy(() -> keyring.createStatement().executeQuery("select * from phi.resource_version"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
            assertThat(keyring.createStatement().executeQuery("select count(*) from keyring.wrapped_key").next()).isTrue();
        }
    }

    @Test
    void storedVersionsCannotBeRewrittenByTheApplicationRole() throws SQLException {
        try (Connection phi = DriverManager.getConnection(url, DevDatabase.PHI_ROLE, "")) {
            assertThatThrownBy(() -> phi.createStatement().executeUpdate("update phi.resource_version set deleted = true"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
            assertThatThrownBy(() -> phi.createStatement().executeUpdate("delete from phi.resource_version"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
        }
    }

    @Test
    void durabilitySettingsAreOn() throws SQLException {
        try (Connection c = DriverManager.getConnection(url, DevDatabase.PHI_ROLE, "")) {
            var rs = c.createStatement().executeQuery("select current_setting('synchronous_commit'), current_setting('fsync')");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("on");
            assertThat(rs.getString(2)).isEqualTo("on");
        }
    }
}
