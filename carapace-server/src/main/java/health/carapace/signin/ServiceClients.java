package health.carapace.signin;

import health.carapace.access.RoleCatalog;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import java.security.SecureRandom;
import java.util.List;
import java.util.Base64;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

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
    private final AuditTrail audit;
    private final TransactionTemplate transactions;
    private final RoleCatalog roleCatalog;
    /** Drops this node's cached callers when a client is disabled (the others hear it from PostgreSQL). */
    private final health.carapace.signin.internal.CallerChanges changes;

    ServiceClients(DataSource dataSource, PasswordEncoder secretHasher, AuditTrail audit,
            PlatformTransactionManager transactionManager, RoleCatalog roleCatalog,
            health.carapace.signin.internal.CallerChanges changes) {
        this.roleCatalog = roleCatalog;
        this.changes = changes;
        this.jdbc = JdbcClient.create(dataSource);
        this.secretHasher = secretHasher;
        this.audit = audit;
        this.transactions = new TransactionTemplate(transactionManager);
    }

    /** A role given to a client is not defined; names only role names, which are not PHI. */
    public static final class UnknownRole extends IllegalArgumentException
            implements health.carapace.platform.logging.SafeMessage {
        UnknownRole(String message) {
            super(message);
        }
    }

    public Credentials create(String name) {
        return create(name, java.util.Set.of());
    }

    /**
     * Creates a client holding the given roles of the policy directory (none: it may authenticate
     * but every decision denies). Its permissions, time windows and IP ranges come from those roles
     * and are checked on every request, so a role change applies to existing tokens at once.
     *
     * @throws IllegalArgumentException if a role is not defined in the policy directory
     */
    public Credentials create(String name, java.util.Set<String> roles) {
        for (String role : roles) {
            if (!roleCatalog.isDefined(role)) {
                throw new UnknownRole("every role must be defined in the policy directory "
                        + "(carapace.access.policy-dir); defined: " + roleCatalog.roles().stream()
                        .map(RoleCatalog.RoleSummary::name).toList());
            }
        }
        if (name == null || name.isBlank() || name.length() > 200) {
            throw new IllegalArgumentException("a client name of 1 to 200 characters is required");
        }
        String clientId = "svc-" + UUID.randomUUID();
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String clientSecret = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        String hash = secretHasher.encode(clientSecret);
        transactions.executeWithoutResult(status -> {
            jdbc.sql("insert into iam.service_client (client_id, name, secret_hash, roles) values (?, ?, ?, ?)")
                    .params(clientId, name.strip(), hash, roles.toArray(String[]::new))
                    .update();
            // The administrator is whoever ran the command on this machine (OS account).
            audit.recordInTransaction(List.of(AuditEvent.now("cli:" + System.getProperty("user.name", "unknown"),
                    AuditAction.ADMIN_CHANGE, "/admin/clients/" + clientId, AuditContext.none(), true, null, null, null)));
        });
        return new Credentials(clientId, clientSecret);
    }

    /**
     * Disables a client: its secret and every token it holds stop working on the next request, on
     * every node (the V13 trigger announces it). Audited as an administrative change by {@code actor}.
     *
     * @return false if there is no such client
     */
    public boolean disable(String clientId, String actor) {
        return Boolean.TRUE.equals(transactions.execute(status -> {
            int updated = jdbc.sql("update iam.service_client set disabled = true where client_id = ?").param(clientId)
                    .update();
            if (updated == 0) {
                return false;
            }
            changes.changedHere();
            audit.recordInTransaction(List.of(AuditEvent.now(actor, AuditAction.ADMIN_CHANGE,
                    "/admin/clients/" + clientId, AuditContext.none(), true, null, null, null)));
            return true;
        }));
    }
}
