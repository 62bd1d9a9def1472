package health.carapace.signin;

import health.carapace.access.AppScope;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import java.net.URI;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * SMART on FHIR apps (docs/SMART.md): sign-in apps with a scope ceiling, the most they may ask
 * for. Public apps have no secret; confidential ones get a 256-bit secret, shown once (only its
 * Argon2id hash is kept). Every app uses the authorization code grant with PKCE S256. Registered
 * by an administrator, through {@code carapace admin create-smart-app} or {@code POST /admin/apps}.
 */
@Service
public class SmartApps {

    /** A registered app; {@code clientSecret} is null for a public app and exists only in this value. */
    public record Registration(String clientId, String clientSecret) {}

    /** A registration refused; the message names only what was wrong, never the value. */
    public static final class Refused extends IllegalArgumentException
            implements health.carapace.platform.logging.SafeMessage {
        Refused(String message) {
            super(message);
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MAX_SCOPES = 64;

    private final JdbcClient jdbc;
    private final AuditTrail audit;
    private final PasswordEncoder secretHasher;
    private final TransactionTemplate transactions;
    /** Drops this node's cached callers when an app is disabled (the others hear it from PostgreSQL, V21_2). */
    private final health.carapace.signin.internal.CallerChanges changes;

    SmartApps(DataSource dataSource, AuditTrail audit, PasswordEncoder secretHasher,
            PlatformTransactionManager transactionManager, health.carapace.signin.internal.CallerChanges changes) {
        this.jdbc = JdbcClient.create(dataSource);
        this.audit = audit;
        this.secretHasher = secretHasher;
        this.transactions = new TransactionTemplate(transactionManager);
        this.changes = changes;
    }

    /**
     * A registered sign-in app as listed for administrators (plain sign-in apps have no scopes;
     * SMART apps have their ceiling): nothing secret.
     */
    public record Summary(String clientId, String name, List<String> scopes, boolean confidential,
            List<String> redirectUris, java.time.Instant createdAt, boolean disabled) {}

    /** The newest apps first, at most {@code limit}; disabled ones only when asked for. */
    public List<Summary> list(boolean includeDisabled, int limit) {
        return jdbc.sql("select " + SUMMARY_COLUMNS + " from iam.login_app where ? or not disabled "
                        + "order by created_at desc, client_id limit ?")
                .params(includeDisabled, limit)
                .query(SmartApps::summary)
                .list();
    }

    /** One app by its client id. */
    public java.util.Optional<Summary> find(String clientId) {
        return jdbc.sql("select " + SUMMARY_COLUMNS + " from iam.login_app where client_id = ?")
                .param(clientId)
                .query(SmartApps::summary)
                .optional();
    }

    /**
     * Disables an app: the token endpoint no longer knows it (no new code, no refresh), and every
     * access token issued through it stops working on its next request, on every node (the V21_2
     * trigger announces it). Audited as an administrative change by {@code admin}, as its
     * registration was.
     *
     * @return false if there is no such app
     */
    public boolean disable(String clientId, String admin, AuditContext context) {
        return Boolean.TRUE.equals(transactions.execute(status -> {
            int updated = jdbc.sql("update iam.login_app set disabled = true where client_id = ?").param(clientId)
                    .update();
            if (updated == 0) {
                return false;
            }
            changes.changedHere();
            audit.recordInTransaction(List.of(AuditEvent.now(admin, AuditAction.ADMIN_CHANGE, "/admin/apps/" + clientId,
                    context, true, null, null, null)));
            return true;
        }));
    }

    private static final String SUMMARY_COLUMNS =
            "client_id, name, scopes, secret_hash is not null, redirect_uris, created_at, disabled";

    private static Summary summary(java.sql.ResultSet rs, int row) throws java.sql.SQLException {
        return new Summary(rs.getString(1), rs.getString(2), List.of((String[]) rs.getArray(3).getArray()),
                rs.getBoolean(4), List.of((String[]) rs.getArray(5).getArray()), rs.getTimestamp(6).toInstant(),
                rs.getBoolean(7));
    }

    /**
     * Registers an app.
     *
     * @param scopes the ceiling: SMART 2.0 scopes ({@code patient/*.rs}, {@code launch/patient},
     *     {@code openid}, {@code fhirUser}, ...); at least one resource scope, no {@code system/} scope
     * @param launchUri where an EHR launch opens the app (https), or null
     * @param admin who registers it, for the audit trail
     */
    public Registration create(String name, List<String> redirectUris, List<String> scopes, boolean confidential,
            String launchUri, String admin, AuditContext context) {
        if (name == null || name.isBlank() || name.length() > 200 || name.chars().anyMatch(Character::isISOControl)) {
            throw new Refused("an app name of 1 to 200 printable characters is required");
        }
        if (redirectUris == null || redirectUris.isEmpty() || redirectUris.size() > 10) {
            throw new Refused("1 to 10 redirect URIs are required");
        }
        for (String uri : redirectUris) {
            try {
                LoginApps.checkRedirectUri(uri);
            } catch (Users.Refused refused) {
                throw new Refused(refused.getMessage());
            }
        }
        Set<String> ceiling = new LinkedHashSet<>(scopes == null ? List.of() : scopes);
        if (ceiling.isEmpty() || ceiling.size() > MAX_SCOPES) {
            throw new Refused("1 to " + MAX_SCOPES + " scopes are required");
        }
        boolean anyResource = false;
        for (String scope : ceiling) {
            if (!AppScope.known(scope)) {
                throw new Refused("every scope must be a SMART 2.0 scope (see docs/SMART.md)");
            }
            var resource = AppScope.parseResource(scope);
            if (resource.isPresent() && resource.get().context() == AppScope.Context.SYSTEM) {
                throw new Refused("system/ scopes are for backend services (create-client), not for apps");
            }
            anyResource |= resource.isPresent();
        }
        if (!anyResource) {
            throw new Refused("at least one resource scope (such as patient/*.rs) is required");
        }
        if (launchUri != null && !launchUri.isBlank() && !launchUri.startsWith("https://")) {
            throw new Refused("a launch URI must be https://");
        }
        if (launchUri != null) {
            try {
                URI.create(launchUri);
            } catch (IllegalArgumentException e) {
                throw new Refused("a launch URI must be an absolute https URI");
            }
        }
        String clientId = "app-" + UUID.randomUUID();
        String secret = null;
        String hash = null;
        if (confidential) {
            byte[] bytes = new byte[32];
            RANDOM.nextBytes(bytes);
            secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            hash = secretHasher.encode(secret);
        }
        String secretHash = hash;
        transactions.executeWithoutResult(status -> {
            jdbc.sql("insert into iam.login_app (client_id, name, redirect_uris, scopes, secret_hash, launch_uri)"
                            + " values (?, ?, ?, ?, ?, ?)")
                    .params(clientId, name.strip(), redirectUris.toArray(String[]::new), ceiling.toArray(String[]::new),
                            secretHash, launchUri == null || launchUri.isBlank() ? null : launchUri)
                    .update();
            audit.recordInTransaction(List.of(AuditEvent.now(admin, AuditAction.ADMIN_CHANGE, "/admin/apps/" + clientId,
                    context, true, null, null, null)));
        });
        return new Registration(clientId, secret);
    }
}
