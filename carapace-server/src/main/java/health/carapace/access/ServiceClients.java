package health.carapace.access;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.stereotype.Service;

/**
 * Service clients: systems that call the FHIR API with the OAuth2 client-credentials grant.
 * The secret is 256 random bits, shown once; only its Argon2id hash is stored.
 */
@Service
public class ServiceClients {

    /** A newly created client. The secret exists only in this value. */
    public record Credentials(String clientId, String clientSecret) {}

    private static final SecureRandom RANDOM = new SecureRandom();

    private final JdbcClient jdbc;
    private final PasswordEncoder secretHasher;

    ServiceClients(DataSource dataSource, PasswordEncoder secretHasher) {
        this.jdbc = JdbcClient.create(dataSource);
        this.secretHasher = secretHasher;
    }

    public Credentials create(String name) {
        if (name == null || name.isBlank() || name.length() > 200) {
            throw new IllegalArgumentException("a client name of 1 to 200 characters is required");
        }
        String clientId = "svc-" + UUID.randomUUID();
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String clientSecret = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        jdbc.sql("insert into iam.service_client (client_id, name, secret_hash) values (?, ?, ?)")
                .params(clientId, name.strip(), secretHasher.encode(clientSecret))
                .update();
        return new Credentials(clientId, clientSecret);
    }
}
