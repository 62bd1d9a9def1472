package health.carapace.crypto.internal;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Where the keyring lives and how unwrapped data keys are cached.
 *
 * @param url JDBC URL of the keyring database (may differ from the PHI database)
 * @param username role the application uses for the keyring; must differ from the PHI role
 * @param ownerUsername role that runs keyring migrations (defaults to {@code username})
 * @param dekCacheSize how many unwrapped patient keysets to keep in memory
 * @param dekCacheTtl how long an unwrapped keyset may stay in memory after last use
 * @param dekCacheMaxLifetime how long an unwrapped keyset may be used after it was unwrapped, however
 *     often it is used: bounds what a node still decrypts once the HSM is away (ADR 0041)
 */
@ConfigurationProperties("carapace.keyring")
record KeyringProperties(String url, String username, String password, String ownerUsername, String ownerPassword,
        int dekCacheSize, Duration dekCacheTtl, Duration dekCacheMaxLifetime) {

    String ownerUsernameOrDefault() {
        return ownerUsername == null || ownerUsername.isBlank() ? username : ownerUsername;
    }

    String ownerPasswordOrDefault() {
        return ownerUsername == null || ownerUsername.isBlank() ? password : ownerPassword;
    }
}
