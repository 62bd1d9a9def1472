package health.carapace.signin.internal;

import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.settings.ClientSettings;
import org.springframework.security.oauth2.server.authorization.settings.OAuth2TokenFormat;
import org.springframework.security.oauth2.server.authorization.settings.TokenSettings;

/**
 * Presents the service clients of {@code iam.service_client} and the sign-in apps of
 * {@code iam.login_app} to the authorization server. Both are registered only through
 * {@code carapace admin create-client} / {@code create-app}, never through this interface.
 */
final class ServiceClientRegistry implements RegisteredClientRepository {

    /** Client settings of a backend client: its registered JWKS document or its JWKS URL (one of the two). */
    static final String JWKS = "carapace.jwks";
    static final String JWKS_URL = "carapace.jwks-url";

    private final JdbcClient jdbc;
    private final Duration accessTokenTtl;
    private final Duration idleTimeout;

    ServiceClientRegistry(DataSource dataSource, Duration accessTokenTtl, Duration idleTimeout) {
        this.jdbc = JdbcClient.create(dataSource);
        this.accessTokenTtl = accessTokenTtl;
        this.idleTimeout = idleTimeout;
    }

    @Override
    public void save(RegisteredClient registeredClient) {
        throw new UnsupportedOperationException("clients are created with 'carapace admin create-client'");
    }

    @Override
    public RegisteredClient findById(String id) {
        return findByClientId(id);
    }

    @Override
    public RegisteredClient findByClientId(String clientId) {
        // No client id holds a control character or runs this long; PostgreSQL text cannot hold
        // NUL at all, and asking it would fail the request with a 500 (found by the wapiti scan).
        if (clientId == null || clientId.length() > 256 || clientId.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            return null;
        }
        RegisteredClient client = serviceClient(clientId);
        return client != null ? client : loginApp(clientId);
    }

    /**
     * A sign-in app: authorization code with PKCE (S256; Spring refuses "plain"), rotating
     * refresh tokens that die after the idle timeout. A plain sign-in app (no scopes) has no
     * consent screen and asks for no scope: a person's permissions come from their roles. A SMART
     * app has a scope ceiling (the most it may ask for; {@link SmartAuthorizationRequests}) and
     * its consent is asked on the sign-in pages ({@link ConsentPages}); a confidential one also
     * authenticates with its secret, and still uses PKCE (SMART 2.0 asks it of every app).
     */
    private RegisteredClient loginApp(String clientId) {
        return jdbc.sql("select client_id, redirect_uris, scopes, secret_hash, name from iam.login_app"
                        + " where client_id = ? and not disabled")
                .param(clientId)
                .query((rs, n) -> {
                    List<String> redirectUris = List.of((String[]) rs.getArray(2).getArray());
                    List<String> scopes = List.of((String[]) rs.getArray(3).getArray());
                    String secretHash = rs.getString(4);
                    RegisteredClient.Builder app = RegisteredClient.withId(rs.getString(1))
                        .clientId(rs.getString(1))
                        // the registered display name: the sign-in and consent pages name the app by it
                        .clientName(rs.getString(5))
                        .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
                        .authorizationGrantType(AuthorizationGrantType.REFRESH_TOKEN)
                        .redirectUris(uris -> uris.addAll(redirectUris))
                        .scopes(s -> s.addAll(scopes))
                        .clientSettings(ClientSettings.builder().requireProofKey(true).requireAuthorizationConsent(false).build())
                        .tokenSettings(TokenSettings.builder()
                                .accessTokenFormat(OAuth2TokenFormat.SELF_CONTAINED)
                                .accessTokenTimeToLive(accessTokenTtl)
                                .authorizationCodeTimeToLive(Duration.ofMinutes(1))
                                .refreshTokenTimeToLive(idleTimeout)
                                .reuseRefreshTokens(false)
                                .build());
                    if (secretHash == null) {
                        app.clientAuthenticationMethod(ClientAuthenticationMethod.NONE);
                    } else {
                        app.clientSecret(secretHash)
                                .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
                                .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST);
                    }
                    return app.build();
                })
                .optional()
                .orElse(null);
    }

    /**
     * A service client: client credentials, authenticated with its secret or, if registered with
     * keys, with a signed assertion ({@code private_key_jwt}, {@link PrivateKeyJwtClients}), never
     * both. What it may do comes from its roles, resolved on every request; a scope ceiling
     * (SMART {@code system/} scopes) can only narrow that ({@link SmartClientCredentials}).
     */
    private RegisteredClient serviceClient(String clientId) {
        return jdbc.sql("select client_id, secret_hash, scopes, jwks is not null or jwks_url is not null, jwks, jwks_url"
                        + " from iam.service_client where client_id = ? and not disabled")
                .param(clientId)
                .query((rs, n) -> {
                    RegisteredClient.Builder client = RegisteredClient.withId(rs.getString(1))
                        .clientId(rs.getString(1))
                        .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
                        .scopes(s -> {
                            try {
                                s.addAll(List.of((String[]) rs.getArray(3).getArray()));
                            } catch (java.sql.SQLException e) {
                                throw new IllegalStateException(e);
                            }
                        })
                        .tokenSettings(TokenSettings.builder()
                                .accessTokenFormat(OAuth2TokenFormat.SELF_CONTAINED)
                                .accessTokenTimeToLive(accessTokenTtl)
                                .build());
                    if (rs.getBoolean(4)) {
                        // The keys travel with the client: the assertion check needs no second lookup.
                        ClientSettings.Builder settings = ClientSettings.builder();
                        if (rs.getString(5) != null) {
                            settings.setting(JWKS, rs.getString(5));
                        }
                        if (rs.getString(6) != null) {
                            settings.setting(JWKS_URL, rs.getString(6));
                        }
                        client.clientAuthenticationMethod(ClientAuthenticationMethod.PRIVATE_KEY_JWT)
                                .clientSettings(settings.build());
                    } else {
                        client.clientSecret(rs.getString(2))
                                .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
                                .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST);
                    }
                    return client.build();
                })
                .optional()
                .orElse(null);
    }
}
