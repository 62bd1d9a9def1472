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
        return create("svc-", name, roles, "cli:" + System.getProperty("user.name", "unknown"));
    }

    /**
     * Creates a drill's synthetic client (docs/INCIDENTS.md "Drills"): its id starts with
     * {@code drill-}, a prefix no user account may take, so that everything it causes is labelled a
     * drill and kept out of breach counts. Audited as an administrative change by {@code actor}.
     */
    public Credentials createForDrill(String name, java.util.Set<String> roles, String actor) {
        return create("drill-", name, roles, actor);
    }

    private Credentials create(String prefix, String name, java.util.Set<String> roles, String actor) {
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
        String clientId = prefix + UUID.randomUUID();
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String clientSecret = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        String hash = secretHasher.encode(clientSecret);
        transactions.executeWithoutResult(status -> {
            jdbc.sql("insert into iam.service_client (client_id, name, secret_hash, roles) values (?, ?, ?, ?)")
                    .params(clientId, name.strip(), hash, roles.toArray(String[]::new))
                    .update();
            // The administrator: whoever ran the command on this machine (OS account), or the drill's runner.
            audit.recordInTransaction(List.of(AuditEvent.now(actor,
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
        return disable(clientId, actor, AuditContext.none());
    }

    /**
     * As {@link #disable(String, String)}, for an administrator acting through a request (the
     * console): the audit event carries the request's context (address, app).
     */
    public boolean disable(String clientId, String actor, AuditContext context) {
        return Boolean.TRUE.equals(transactions.execute(status -> {
            int updated = jdbc.sql("update iam.service_client set disabled = true where client_id = ?").param(clientId)
                    .update();
            if (updated == 0) {
                return false;
            }
            changes.changedHere();
            audit.recordInTransaction(List.of(AuditEvent.now(actor, AuditAction.ADMIN_CHANGE,
                    "/admin/clients/" + clientId, context, true, null, null, null)));
            return true;
        }));
    }

    /**
     * A client as listed for administrators: nothing secret (no secret hash, no keys).
     *
     * @param authentication {@code client_secret} or {@code private_key_jwt} (a SMART Backend Service)
     * @param scopes a backend service's {@code system/} scope ceiling; empty for a secret client
     */
    public record Summary(String clientId, String name, java.util.Set<String> roles, List<String> scopes,
            String authentication, java.time.Instant createdAt, boolean disabled) {

        /** A drill's synthetic principal (docs/INCIDENTS.md "Drills"). */
        public boolean drill() {
            return clientId.startsWith("drill-");
        }
    }

    /**
     * The newest clients first, at most {@code limit}; disabled ones only when asked for. For the
     * console's Users page (administrators pick one to disable there).
     */
    public List<Summary> list(boolean includeDisabled, int limit) {
        return jdbc.sql("select " + SUMMARY_COLUMNS + " from iam.service_client where ? or not disabled "
                        + "order by created_at desc, client_id limit ?")
                .params(includeDisabled, limit)
                .query(ServiceClients::summary)
                .list();
    }

    /** One client by its id, as {@link #list} shows it. */
    public java.util.Optional<Summary> find(String clientId) {
        return jdbc.sql("select " + SUMMARY_COLUMNS + " from iam.service_client where client_id = ?")
                .param(clientId)
                .query(ServiceClients::summary)
                .optional();
    }

    private static final String SUMMARY_COLUMNS =
            "client_id, name, roles, scopes, secret_hash is null, created_at, disabled";

    private static Summary summary(java.sql.ResultSet rs, int row) throws java.sql.SQLException {
        return new Summary(rs.getString(1), rs.getString(2),
                new java.util.TreeSet<>(List.of((String[]) rs.getArray(3).getArray())),
                List.of((String[]) rs.getArray(4).getArray()),
                rs.getBoolean(5) ? "private_key_jwt" : "client_secret", rs.getTimestamp(6).toInstant(), rs.getBoolean(7));
    }

    /**
     * Creates a SMART Backend Services client: it authenticates with {@code private_key_jwt}
     * (signed assertions, no secret) against a JWKS given here or fetched from an https URL, and
     * may ask for at most the given {@code system/} scopes, which narrow what its roles allow.
     *
     * @param jwks a JWKS document (public keys: EC P-384 or RSA of 2048 bits or more), or null
     * @param jwksUrl an https URL serving the JWKS, or null (exactly one of the two)
     * @return the client id
     */
    public String createBackend(String name, java.util.Set<String> roles, java.util.List<String> scopes, String jwks,
            String jwksUrl) {
        for (String role : roles) {
            if (!roleCatalog.isDefined(role)) {
                throw new UnknownRole("every role must be defined in the policy directory (carapace.access.policy-dir)");
            }
        }
        if (name == null || name.isBlank() || name.length() > 200) {
            throw new IllegalArgumentException("a client name of 1 to 200 characters is required");
        }
        if ((jwks == null) == (jwksUrl == null)) {
            throw new KeysRefused("give exactly one of a JWKS or a JWKS URL");
        }
        if (jwks != null) {
            try {
                java.util.Optional<String> problem = health.carapace.signin.internal.PrivateKeyJwtClients
                        .floorProblem(com.nimbusds.jose.jwk.JWKSet.parse(jwks));
                if (problem.isPresent()) {
                    throw new KeysRefused(problem.get());
                }
            } catch (java.text.ParseException malformed) {
                throw new KeysRefused("the JWKS is not a JSON Web Key Set");
            }
        } else if (!jwksUrl.startsWith("https://") || jwksUrl.length() > 2000) {
            throw new KeysRefused("a JWKS URL must be https://");
        }
        java.util.Set<String> ceiling = new java.util.LinkedHashSet<>(scopes == null ? List.of() : scopes);
        if (ceiling.isEmpty()) {
            throw new KeysRefused("at least one system/ scope is required (such as system/*.rs)");
        }
        for (String scope : ceiling) {
            var resource = health.carapace.access.AppScope.parseResource(scope);
            if (resource.isEmpty() || resource.get().context() != health.carapace.access.AppScope.Context.SYSTEM
                    || !resource.get().servable()) {
                throw new KeysRefused("a backend service asks for system/ scopes only (such as system/*.rs)");
            }
        }
        String clientId = "svc-" + UUID.randomUUID();
        transactions.executeWithoutResult(status -> {
            jdbc.sql("insert into iam.service_client (client_id, name, secret_hash, roles, scopes, jwks, jwks_url)"
                            + " values (?, ?, null, ?, ?, ?, ?)")
                    .params(clientId, name.strip(), roles.toArray(String[]::new), ceiling.toArray(String[]::new), jwks,
                            jwksUrl)
                    .update();
            audit.recordInTransaction(List.of(AuditEvent.now("cli:" + System.getProperty("user.name", "unknown"),
                    AuditAction.ADMIN_CHANGE, "/admin/clients/" + clientId, AuditContext.none(), true, null, null, null)));
        });
        return clientId;
    }

    /** Keys or scopes of a backend client refused; the message names the rule, never the value. */
    public static final class KeysRefused extends IllegalArgumentException
            implements health.carapace.platform.logging.SafeMessage {
        KeysRefused(String message) {
            super(message);
        }
    }

    /**
     * The client as a caller now (its roles from the directory; empty if disabled or unknown),
     * narrowed to {@code appScopes} when its token was (null: roles only). For work that runs
     * after the request that asked for it, such as a bulk export.
     */
    public java.util.Optional<health.carapace.access.Caller> callerNow(String clientId,
            java.util.Collection<String> appScopes) {
        return jdbc.sql("select roles from iam.service_client where client_id = ? and not disabled")
                .param(clientId)
                .query((rs, n) -> new health.carapace.access.Caller(clientId, health.carapace.access.Caller.Kind.SERVICE_CLIENT,
                        java.util.Set.of((String[]) rs.getArray(1).getArray()), null,
                        appScopes == null ? health.carapace.access.AppScope.ROLES_ONLY
                                : health.carapace.access.AppScope.granted(appScopes, null)))
                .optional();
    }
}
