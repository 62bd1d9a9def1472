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

    SmartApps(DataSource dataSource, AuditTrail audit, PasswordEncoder secretHasher,
            PlatformTransactionManager transactionManager) {
        this.jdbc = JdbcClient.create(dataSource);
        this.audit = audit;
        this.secretHasher = secretHasher;
        this.transactions = new TransactionTemplate(transactionManager);
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
