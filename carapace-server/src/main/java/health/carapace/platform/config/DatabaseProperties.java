package health.carapace.platform.config;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The PHI database.
 *
 * @param url JDBC URL; in production it must use TLS with certificate verification
 * @param username role the application uses: DML on the record tables, nothing in the keyring
 * @param ownerUsername role that owns the schemas and runs migrations (defaults to username)
 * @param poolSize maximum connections in the PHI pool
 */
@ConfigurationProperties("carapace.db")
public record DatabaseProperties(String url, String username, String password, String ownerUsername,
        String ownerPassword, int poolSize) {

    public String ownerUsernameOrDefault() {
        return ownerUsername == null || ownerUsername.isBlank() ? username : ownerUsername;
    }

    public String ownerPasswordOrDefault() {
        return ownerUsername == null || ownerUsername.isBlank() ? password : ownerPassword;
    }
}
