package health.carapace.signin;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import java.net.URI;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Applications through which people sign in: OAuth2 public clients (no secret) using the
 * authorization code grant with PKCE (S256 only). Registered only by an administrator.
 */
@Service
public class LoginApps {

    private final JdbcClient jdbc;
    private final AuditTrail audit;
    private final TransactionTemplate transactions;

    LoginApps(DataSource dataSource, AuditTrail audit, PlatformTransactionManager transactionManager) {
        this.jdbc = JdbcClient.create(dataSource);
        this.audit = audit;
        this.transactions = new TransactionTemplate(transactionManager);
    }

    /** Registers an app and returns its client id. */
    public String create(String name, List<String> redirectUris) {
        if (name == null || name.isBlank() || name.length() > 200) {
            throw new Users.Refused("an app name of 1 to 200 characters is required");
        }
        if (redirectUris == null || redirectUris.isEmpty()) {
            throw new Users.Refused("at least one --redirect-uri is required");
        }
        redirectUris.forEach(LoginApps::checkRedirectUri);
        String clientId = "app-" + UUID.randomUUID();
        transactions.executeWithoutResult(status -> {
            jdbc.sql("insert into iam.login_app (client_id, name, redirect_uris) values (?, ?, ?)")
                    .params(clientId, name.strip(), redirectUris.toArray(String[]::new))
                    .update();
            audit.recordInTransaction(List.of(AuditEvent.now("cli:" + System.getProperty("user.name", "unknown"),
                    AuditAction.ADMIN_CHANGE, "/admin/apps/" + clientId, AuditContext.none(), true, null, null, null)));
        });
        return clientId;
    }

    /**
     * Registers (or re-points) an app that the server itself runs, such as the privacy officer's
     * console: a public client with PKCE like any other sign-in app, whose redirect URIs follow the
     * server's public address. Its name and redirect URIs are set at every start; whether it is
     * disabled is left to the administrators. Audited only when something changed.
     */
    public void registerBuiltIn(String clientId, String name, List<String> redirectUris) {
        redirectUris.forEach(LoginApps::checkRedirectUri);
        transactions.executeWithoutResult(status -> {
            // Every node registers the app at its start, with its own public address. Nodes of one
            // installation share that address; several nodes on one machine (development, tests) each
            // have a loopback address of their own, and a node must not take the others' away: loopback
            // addresses already registered are kept (they cannot leave the machine), any other is replaced.
            java.util.Set<String> kept = new java.util.TreeSet<>(redirectUris);
            jdbc.sql("select redirect_uris from iam.login_app where client_id = ? for update").param(clientId)
                    .query((rs, n) -> (String[]) rs.getArray(1).getArray()).optional()
                    .ifPresent(registered -> java.util.Arrays.stream(registered).filter(LoginApps::isLoopback)
                            .forEach(kept::add));
            String[] uris = kept.toArray(String[]::new);
            int changed = jdbc.sql("""
                    insert into iam.login_app (client_id, name, redirect_uris) values (?, ?, ?)
                    on conflict (client_id) do update set name = excluded.name, redirect_uris = excluded.redirect_uris
                    where iam.login_app.name is distinct from excluded.name
                       or iam.login_app.redirect_uris is distinct from excluded.redirect_uris""")
                    .params(clientId, name, uris)
                    .update();
            if (changed > 0) {
                audit.recordInTransaction(List.of(AuditEvent.now("system:" + clientId, AuditAction.ADMIN_CHANGE,
                        "/admin/apps/" + clientId, AuditContext.none(), true, null, null, null)));
            }
        });
    }

    /** A redirect URI to this machine only: {@code localhost}, 127.0.0.1 or [::1], any scheme and port. */
    static boolean isLoopback(String value) {
        try {
            String host = URI.create(value).getHost();
            return "localhost".equals(host) || "127.0.0.1".equals(host) || "[::1]".equals(host);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * HTTPS, or plain HTTP to a loopback address (RFC 8252 §7.3, native apps; any port is then
     * accepted). No fragment, no wildcard.
     */
    static void checkRedirectUri(String value) {
        URI uri;
        try {
            uri = URI.create(value);
        } catch (IllegalArgumentException e) {
            throw new Users.Refused("a redirect URI must be an absolute URI");
        }
        boolean loopback = "http".equals(uri.getScheme())
                && ("127.0.0.1".equals(uri.getHost()) || "[::1]".equals(uri.getHost()));
        if (!uri.isAbsolute() || uri.getHost() == null || uri.getFragment() != null || value.contains("*")
                || !("https".equals(uri.getScheme()) || loopback)) {
            throw new Users.Refused("a redirect URI must be https:// (or http://127.0.0.1/... for a native app),"
                    + " without fragment or wildcard");
        }
    }
}
