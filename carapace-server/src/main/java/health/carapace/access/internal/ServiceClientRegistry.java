package health.carapace.access.internal;

import java.time.Duration;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.settings.OAuth2TokenFormat;
import org.springframework.security.oauth2.server.authorization.settings.TokenSettings;

/**
 * Presents the service clients of {@code iam.service_client} to the authorization server. Clients
 * are registered only through {@code carapace admin create-client}, never through this interface.
 */
final class ServiceClientRegistry implements RegisteredClientRepository {

    private final JdbcClient jdbc;
    private final Duration accessTokenTtl;

    ServiceClientRegistry(DataSource dataSource, Duration accessTokenTtl) {
        this.jdbc = JdbcClient.create(dataSource);
        this.accessTokenTtl = accessTokenTtl;
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
        return jdbc.sql("select client_id, secret_hash from iam.service_client where client_id = ? and not disabled")
                .param(clientId)
                // No scopes: what a client may do comes from its roles, resolved on every request.
                .query((rs, n) -> {
                    return RegisteredClient.withId(rs.getString(1))
                        .clientId(rs.getString(1))
                        .clientSecret(rs.getString(2))
                        .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
                        .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST)
                        .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
                        .tokenSettings(TokenSettings.builder()
                                .accessTokenFormat(OAuth2TokenFormat.SELF_CONTAINED)
                                .accessTokenTimeToLive(accessTokenTtl)
                                .build())
                        .build();
                })
                .optional()
                .orElse(null);
    }
}
