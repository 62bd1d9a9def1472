package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.signin.Users;
import health.carapace.testing.IntegrationTest;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

/**
 * What a person's token resolves to: the roles and practitioner of the directory, whatever the
 * token claims, read again on every request (a role change is seen on the next one). Runs the
 * real resolver on a token verified by the server's own decoder, against the real directory.
 */
class CallerResolutionTest extends IntegrationTest {

    @Autowired
    private Users users;

    @Autowired
    private Sessions sessions;

    @Autowired
    private DataSource dataSource;

    @Autowired
    private DeniedRequests denied;

    @Autowired
    private CallerChanges changes;

    @Autowired
    private JwtDecoder decoder;

    @Autowired
    private JWKSource<SecurityContext> keys;

    @Value("${carapace.issuer}")
    private String issuer;

    @AfterEach
    void clear() {
        SecurityContextHolder.clearContext();
    }

    @Test
    void rolesAndPractitionerComeFromTheDirectoryNotFromTheToken() throws Exception {
        String name = "resolve-" + UUID.randomUUID().toString().substring(0, 8);
        users.create(name, Set.of("clinician"), "prac-42");
        UUID sessionId = sessions.open(userId(name));
        String token = sign(name, sessionId, List.of("admin", "security_officer"), "prac-666");

        Caller caller = resolve(token).orElseThrow();

        assertThat(caller.kind()).isEqualTo(Caller.Kind.USER);
        assertThat(caller.principal()).isEqualTo(name);
        assertThat(caller.roles()).containsExactly("clinician");
        assertThat(caller.practitionerId()).isEqualTo("prac-42");
        // Scopes in a person's token confer nothing: the authentication carries no authority.
        assertThat(SecurityContextHolder.getContext().getAuthentication().getAuthorities()).isEmpty();

        users.setRoles(name, Set.of("radiologist"));

        assertThat(resolve(token).orElseThrow().roles()).containsExactly("radiologist");
    }

    @Test
    void aRevokedSessionResolvesToNobody() throws Exception {
        String name = "resolve-" + UUID.randomUUID().toString().substring(0, 8);
        users.create(name, Set.of("clinician"), null);
        UUID sessionId = sessions.open(userId(name));
        String token = sign(name, sessionId, List.of(), null);
        assertThat(resolve(token)).isPresent();

        sessions.revoke(sessionId);

        assertThat(resolve(token)).isEmpty();
    }

    /**
     * A person's token speaks for them only through an enabled sign-in app, the one in its audience
     * (M3): none, several, an unknown one or a disabled one, and it resolves to nobody.
     */
    @Test
    void aPersonsTokenNamingNoEnabledSignInAppResolvesToNobody() throws Exception {
        String name = "resolve-" + UUID.randomUUID().toString().substring(0, 8);
        users.create(name, Set.of("clinician"), null);
        UUID sessionId = sessions.open(userId(name));
        assertThat(resolve(sign(name, sessionId, List.of(), null))).isPresent();
        String disabledApp = "app-" + UUID.randomUUID();
        JdbcClient.create(dataSource).sql("insert into iam.login_app (client_id, name, redirect_uris, disabled)"
                        + " values (?, 'disabled test app', ?, true)")
                .params(disabledApp, new String[] {"http://127.0.0.1/callback"}).update();

        for (List<String> audience : List.of(List.<String>of(), List.of("app-" + UUID.randomUUID()),
                List.of(disabledApp), List.of(SignInConfiguration.DEV_CONSOLE, disabledApp))) {
            assertThat(resolve(sign(name, sessionId, List.of(), null, audience))).as(audience.toString()).isEmpty();
        }
    }

    private Optional<Caller> resolve(String token) throws Exception {
        var jwt = decoder.decode(token);
        SecurityContextHolder.getContext().setAuthentication(new JwtAuthenticationToken(jwt, List.of(
                new org.springframework.security.core.authority.SimpleGrantedAuthority("SCOPE_view:audit")), jwt.getSubject()));
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/fhir/Patient");
        MockHttpServletResponse response = new MockHttpServletResponse();
        AtomicReference<Caller> seen = new AtomicReference<>();
        new CallerResolution(new LiveAccessTokens(dataSource, java.time.Clock.systemUTC(), changes), denied).doFilter(request, response,
                (req, res) -> seen.set(Callers.of(request).orElse(null)));
        if (seen.get() == null) {
            assertThat(response.getStatus()).isEqualTo(401);
        }
        return Optional.ofNullable(seen.get());
    }

    private UUID userId(String name) {
        return JdbcClient.create(dataSource).sql("select id from iam.app_user where user_name = ?").param(name)
                .query(UUID.class).single();
    }

    /** As the authorization server issues a person's token: to the sign-in app it went through (start-dev's). */
    private String sign(String name, UUID sessionId, List<String> roles, String practitioner) throws Exception {
        return sign(name, sessionId, roles, practitioner, List.of(SignInConfiguration.DEV_CONSOLE));
    }

    private String sign(String name, UUID sessionId, List<String> roles, String practitioner, List<String> audience)
            throws Exception {
        ECKey key = (ECKey) keys.get(new JWKSelector(new JWKMatcher.Builder().keyType(KeyType.EC).privateOnly(true).build()),
                null).get(0);
        Instant now = Instant.now();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().subject(name).issuer(issuer)
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now)).expirationTime(Date.from(now.plus(Duration.ofMinutes(5))))
                .jwtID(UUID.randomUUID().toString()).claim("kind", "user").claim("sid", sessionId.toString())
                .claim("roles", roles).claim("scope", "view:audit").audience(audience);
        if (practitioner != null) {
            claims.claim("practitioner_id", practitioner);
        }
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(JOSEObjectType.JWT).keyID(key.getKeyID())
                .build(), claims.build());
        jwt.sign(new ECDSASigner(key));
        return health.carapace.testing.EcdsaSignatures.lowS(jwt.serialize());
    }
}
