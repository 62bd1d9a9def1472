package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Key separation judged on the live connections, not on the configured user names: a JDBC URL
 * with its own {@code user=}, a PHI role made a member of the keyring role, or a superuser all
 * reach the keyring from the PHI connection while the two configured names still differ.
 */
class KeySeparationCheckTest extends IntegrationTest {

    private final String url = TestInstallation.properties().get("carapace.db.url").toString();

    @Autowired
    private KeySeparationCheck check;

    @Test
    void theTestInstallationIsSeparated() {
        assertThat(check.problem()).isEmpty();
    }

    @Test
    void aPhiRoleThatCanReadTheKeyringIsFoundEvenThoughTheUserNamesDiffer() throws SQLException {
        try (Connection owner = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
            owner.createStatement().execute("grant " + DevDatabase.KEYRING_ROLE + " to " + DevDatabase.PHI_ROLE);
            try {
                assertThat(check.problem()).hasValueSatisfying(p -> assertThat(p)
                        .contains("the PHI database user can read the keyring").doesNotContain(DevDatabase.PHI_ROLE));
            } finally {
                owner.createStatement().execute("revoke " + DevDatabase.KEYRING_ROLE + " from " + DevDatabase.PHI_ROLE);
            }
        }
        assertThat(check.problem()).isEmpty();
    }
}
