package health.carapace.crypto;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import org.springframework.core.env.PropertyResolver;

/**
 * The installation's count of HSM logins the token refused for the PIN, which every node and
 * command of the installation shares through the keyring (keyring migration V5, ADR 0049). Once the
 * count reaches {@code carapace.kek.pkcs11.refused-login-attempts} nobody sends the token another
 * login; the operator who fixed {@code carapace.kek.pkcs11.pin} resets it here.
 */
public final class HsmLogins {

    /** The row of the installation's one KEK token (crypto.internal.HsmLoginBudget's too). */
    private static final String TOKEN = "kek";

    /** What the reset found: the count, the last refusal's PKCS#11 return value, when the last login was tried. */
    public record Reset(int refused, String lastCode, Instant lastAttemptAt) {}

    private HsmLogins() {
    }

    /**
     * Sets the count to 0 and records {@code operator} and the time in the keyring; returns what was
     * counted before. Connects to the keyring of {@code settings} ({@code carapace.keyring.*}, as its
     * owner when one is set) without starting an application: with the budget spent, no application
     * could log in to start.
     */
    public static Reset reset(PropertyResolver settings, String operator) throws SQLException {
        String owner = settings.getProperty("carapace.keyring.owner-username", "");
        boolean ownerSet = !owner.isBlank();
        String user = ownerSet ? owner : settings.getProperty("carapace.keyring.username", "");
        String password = settings.getProperty(ownerSet ? "carapace.keyring.owner-password"
                : "carapace.keyring.password", "");
        // several hosts (a replicated cluster): only ever the primary, as the keyring pool
        String url = health.carapace.platform.config.DatabaseFailover.url(settings.getProperty("carapace.keyring.url", ""));
        try (Connection keyring = DriverManager.getConnection(url, user, password)) {
            keyring.setAutoCommit(false);
            try {
                Reset before = new Reset(0, null, null);
                try (PreparedStatement read = keyring.prepareStatement(
                        "select refused, last_code, last_attempt_at from keyring.hsm_login where token = ? for update")) {
                    read.setString(1, TOKEN);
                    try (ResultSet rs = read.executeQuery()) {
                        if (rs.next()) {
                            before = new Reset(rs.getInt(1), rs.getString(2),
                                    rs.getTimestamp(3) == null ? null : rs.getTimestamp(3).toInstant());
                        }
                    }
                }
                // insert or update: a keyring that lost the row gets it back, at 0
                try (PreparedStatement write = keyring.prepareStatement("""
                        insert into keyring.hsm_login (token, refused, reset_at, reset_by) values (?, 0, now(), ?)
                        on conflict (token) do update set refused = 0, last_code = null, reset_at = now(),
                            reset_by = excluded.reset_by""")) {
                    write.setString(1, TOKEN);
                    write.setString(2, operator);
                    write.executeUpdate();
                }
                keyring.commit();
                return before;
            } catch (SQLException | RuntimeException e) {
                keyring.rollback();
                throw e;
            }
        }
    }
}
