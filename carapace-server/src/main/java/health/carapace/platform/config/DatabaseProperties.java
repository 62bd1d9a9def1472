package health.carapace.platform.config;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The PHI database.
 *
 * @param url JDBC URL; in production it must use TLS with certificate verification
 * @param username role the application uses: DML on the record tables, nothing in the keyring
 * @param ownerUsername role that owns the schemas and runs migrations (defaults to username)
 * @param poolSize maximum connections in the PHI pool
 * @param connectionWait how long a request waits for a connection (this pool's and the keyring's)
 *     before it is refused with 503: while a database is unreachable, requests fail after it
 */
@ConfigurationProperties("carapace.db")
public record DatabaseProperties(String url, String username, String password, String ownerUsername,
        String ownerPassword, int poolSize, java.time.Duration connectionWait) {

    public String ownerUsernameOrDefault() {
        return ownerUsername == null || ownerUsername.isBlank() ? username : ownerUsername;
    }

    public String ownerPasswordOrDefault() {
        return ownerUsername == null || ownerUsername.isBlank() ? password : ownerPassword;
    }
}
