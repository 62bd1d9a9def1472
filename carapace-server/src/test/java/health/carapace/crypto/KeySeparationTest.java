package health.carapace.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
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
    void phiRoleCannotReadAnyKeyringTable() throws SQLException {
        // Every relation in the keyring schema, from the catalog, so tables added later are covered.
        List<String> relations = keyringRelations();
        assertThat(relations).contains("keyring.wrapped_key", "keyring.shredded_compartment");
        try (Connection phi = DriverManager.getConnection(url, DevDatabase.PHI_ROLE, "");
                Connection owner = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
            for (String relation : relations) {
                assertThatThrownBy(() -> phi.createStatement().executeQuery("select * from " + relation))
                        .as(relation).isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
                // Asked of the catalog (as the owner): not only SELECT, no privilege of any kind.
                ResultSet privileges = owner.createStatement().executeQuery("select has_table_privilege('"
                        + DevDatabase.PHI_ROLE + "', '" + relation + "', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, "
                        + "REFERENCES, TRIGGER')");
                privileges.next();
                assertThat(privileges.getBoolean(1)).as("any privilege on " + relation).isFalse();
            }
            ResultSet usage = owner.createStatement().executeQuery(
                    "select has_schema_privilege('" + DevDatabase.PHI_ROLE + "', 'keyring', 'USAGE, CREATE')");
            usage.next();
            assertThat(usage.getBoolean(1)).as("usage of the keyring schema").isFalse();
            assertThat(phi.createStatement().executeQuery("select count(*) from phi.resource_version").next()).isTrue();
        }
    }

    /** Tables, views, materialized views, partitioned tables and sequences in the keyring schema. */
    private List<String> keyringRelations() throws SQLException {
        List<String> relations = new ArrayList<>();
        try (Connection owner = DriverManager.getConnection(url, DevDatabase.OWNER, "");
                ResultSet rs = owner.createStatement().executeQuery("""
                        select quote_ident(n.nspname) || '.' || quote_ident(c.relname)
                        from pg_class c join pg_namespace n on n.oid = c.relnamespace
                        where n.nspname = 'keyring' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
                        order by 1""")) {
            while (rs.next()) {
                relations.add(rs.getString(1));
            }
        }
        return relations;
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
