package health.carapace.signin.internal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import jakarta.servlet.http.HttpServletRequest;
import java.sql.Timestamp;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.web.authentication.AuthenticationConverter;

/**
 * SMART Backend Services client authentication (RFC 7523 {@code private_key_jwt}, as SMART's
 * Backend Services profile and Bulk Data require). A service client registered with a JWKS (or an
 * https JWKS URL) proves itself at the token endpoint with a JWT it signed:
 * <ul>
 * <li>{@code alg} ES384 (P-384) or RS384 (RSA of at least {@link #MIN_RSA_BITS} bits, the floor many
 * SMART clients sign with); a key is chosen among the registered ones by {@code kid}, never from a
 * header ({@code jku}, {@code x5u} and {@code jwk} are ignored);</li>
 * <li>{@code iss} = {@code sub} = the client id; {@code aud} = this token endpoint's URL;</li>
 * <li>{@code exp} in the future and at most {@link #MAX_LIFETIME} away (from now, and from
 * {@code iat} when given); {@code nbf}, if given, not in the future;</li>
 * <li>{@code jti} never seen before for this client: inserted into {@code iam.client_assertion}
 * (shared by every node) until the assertion expires, so a replay is refused anywhere; expired
 * rows are pruned at most every 10 seconds per node.</li>
 * </ul>
 * Everything refused is {@code invalid_client} (401), whatever was wrong: the client learns no more.
 * A JWKS URL is fetched by {@link JwksFetcher} (public addresses only, one deadline, cached, failures
 * remembered). Failed assertions back off per client id and address ({@link AssertionFailures}):
 * a throttled one is 429 {@code slow_down} before any key is looked at.
 */
public final class PrivateKeyJwtClients implements AuthenticationConverter, AuthenticationProvider {

    static final String JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    static final Duration MAX_LIFETIME = Duration.ofMinutes(5);
    static final int MIN_RSA_BITS = 2048;
    private static final Duration SKEW = Duration.ofSeconds(60);
    private static final int MAX_ASSERTION = 16 * 1024;
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.ES384, JWSAlgorithm.RS384);

    /** Marks the tokens this provider handles, so Spring's own assertion provider never sees them. */
    static final class AssertionToken extends OAuth2ClientAuthenticationToken {
        private static final long serialVersionUID = 1L;
        private final transient SignedJWT assertion;
        private final String address;

        AssertionToken(String clientId, SignedJWT assertion, String raw, String address) {
            super(clientId, ClientAuthenticationMethod.PRIVATE_KEY_JWT, raw, null);
            this.assertion = assertion;
            this.address = address;
        }
    }

    private final RegisteredClientRepository clients;
    private final JdbcClient jdbc;
    private final Clock clock;
    private final Supplier<String> tokenEndpoint;
    private final JwksFetcher fetcher;
    private final AssertionFailures failures;
    private final health.carapace.access.ClientAddress addresses;
    private volatile Instant lastPruned;
    /** Registered JWKS documents, parsed (token issuance is a hot path: docs/BENCHMARKS.md). */
    private final com.github.benmanes.caffeine.cache.Cache<String, List<JWK>> parsed =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(1_000).build();
    private final com.github.benmanes.caffeine.cache.Cache<KeyUse, JWSVerifier> verifiers =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(2_000).build();

    PrivateKeyJwtClients(RegisteredClientRepository clients, DataSource dataSource, Clock clock,
            Supplier<String> tokenEndpoint, JwksFetcher fetcher, health.carapace.access.ClientAddress addresses) {
        this.clients = clients;
        this.jdbc = JdbcClient.create(dataSource);
        this.clock = clock;
        this.tokenEndpoint = tokenEndpoint;
        this.fetcher = fetcher;
        this.failures = new AssertionFailures(clock);
        this.addresses = addresses;
    }

    @Override
    public Authentication convert(HttpServletRequest request) {
        if (!JWT_BEARER.equals(request.getParameter("client_assertion_type"))) {
            return null;
        }
        String[] values = request.getParameterValues("client_assertion");
        String[] types = request.getParameterValues("client_assertion_type");
        if (values == null || values.length != 1 || types.length != 1 || values[0].length() > MAX_ASSERTION
                || request.getHeader("Authorization") != null || request.getParameter("client_secret") != null) {
            throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
        }
        SignedJWT assertion;
        String issuer;
        try {
            assertion = SignedJWT.parse(values[0]);
            issuer = assertion.getJWTClaimsSet().getIssuer();
        } catch (ParseException malformed) {
            throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
        }
        String clientId = request.getParameter("client_id");
        if (issuer == null || (clientId != null && !clientId.equals(issuer))) {
            throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
        }
        return new AssertionToken(issuer, assertion, values[0], addresses.resolve(request).getHostAddress());
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return AssertionToken.class.isAssignableFrom(authentication);
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        AssertionToken presented = (AssertionToken) authentication;
        String clientId = (String) presented.getPrincipal();
        Duration wait = failures.wait(clientId, presented.address);
        if (!wait.isZero()) {
            throw new ThrottledClientSecrets.Throttled(wait);
        }
        try {
            Authentication authenticated = check(presented, clientId);
            failures.succeeded(clientId, presented.address);
            return authenticated;
        } catch (KeysUnavailable outage) {
            // The client's JWKS host is down or slow: nothing is known about the assertion, and a
            // network blip must not turn into a back-off for the client (review M3). The failed
            // fetch is remembered (JwksFetcher.KEEP_FAILURE), so retries cost no fetch.
            throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
        } catch (OAuth2AuthenticationException refused) {
            failures.failed(clientId, presented.address);
            throw refused;
        } catch (RuntimeException unexpected) {
            // Anything else (a cache, a parser, the database) is a refusal too, counted like one:
            // never a 500 that escapes the back-off (review L13). Only the class is logged.
            failures.failed(clientId, presented.address);
            org.slf4j.LoggerFactory.getLogger(PrivateKeyJwtClients.class)
                    .warn("A client assertion could not be checked ({})", unexpected.getClass().getName());
            throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
        }
    }

    /** The client's JWKS URL could not be fetched: the assertion cannot be judged either way. */
    private static final class KeysUnavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        KeysUnavailable() {
            super(null, null, false, false);
        }
    }

    private Authentication check(AssertionToken presented, String clientId) {
        RegisteredClient client = clients.findByClientId(clientId);
        if (client == null || !client.getClientAuthenticationMethods().contains(ClientAuthenticationMethod.PRIVATE_KEY_JWT)
                || presented.assertion == null) {
            throw refused();
        }
        SignedJWT assertion = presented.assertion;
        JWTClaimsSet claims;
        try {
            claims = assertion.getJWTClaimsSet();
        } catch (ParseException e) {
            throw refused();
        }
        JWSAlgorithm algorithm = assertion.getHeader().getAlgorithm();
        Instant now = clock.instant();
        Instant expires = claims.getExpirationTime() == null ? null : claims.getExpirationTime().toInstant();
        if (!ALGORITHMS.contains(algorithm) || !clientId.equals(claims.getSubject())
                || claims.getAudience() == null || !claims.getAudience().contains(tokenEndpoint.get())
                || expires == null || !expires.isAfter(now) || expires.isAfter(now.plus(MAX_LIFETIME).plus(SKEW))
                || (claims.getIssueTime() != null
                        && Duration.between(claims.getIssueTime().toInstant(), expires).compareTo(MAX_LIFETIME) > 0)
                || (claims.getNotBeforeTime() != null && claims.getNotBeforeTime().toInstant().isAfter(now.plus(SKEW)))
                || claims.getJWTID() == null || claims.getJWTID().isBlank() || claims.getJWTID().length() > 255) {
            throw refused();
        }
        if (!verified(client, assertion, algorithm)) {
            throw refused();
        }
        // Last, after the signature: only the client itself can use up one of its jti values.
        if (!firstUse(clientId, claims.getJWTID(), expires.plus(SKEW), now)) {
            throw refused();
        }
        return new OAuth2ClientAuthenticationToken(client, ClientAuthenticationMethod.PRIVATE_KEY_JWT, presented.getCredentials());
    }

    private boolean verified(RegisteredClient client, SignedJWT assertion, JWSAlgorithm algorithm) {
        String kid = assertion.getHeader().getKeyID();
        for (JWK key : keysOf(client)) {
            if (kid != null && !kid.equals(key.getKeyID())) {
                continue;
            }
            try {
                JWSVerifier verifier = verifiers.get(new KeyUse(key, algorithm), PrivateKeyJwtClients::verifier);
                if (verifier != null && assertion.verify(verifier)) {
                    return true;
                }
            } catch (JOSEException wrongKey) {
                // try the next key
            }
        }
        return false;
    }

    /** A key with the algorithm an assertion names: verifiers are made once per pair (key conversion is not free). */
    private record KeyUse(JWK key, JWSAlgorithm algorithm) {}

    private static JWSVerifier verifier(KeyUse use) {
        try {
            return verifier(use.key(), use.algorithm());
        } catch (JOSEException unusable) {
            return null;
        }
    }

    /** A verifier for a key that meets the floor for this algorithm, else null. */
    private static JWSVerifier verifier(JWK key, JWSAlgorithm algorithm) throws JOSEException {
        if (key.getKeyUse() != null && !"sig".equals(key.getKeyUse().identifier())) {
            return null;
        }
        if (key.getAlgorithm() != null && !algorithm.equals(key.getAlgorithm())) {
            return null;
        }
        if (JWSAlgorithm.ES384.equals(algorithm) && key instanceof ECKey ec && Curve.P_384.equals(ec.getCurve())) {
            // BouncyCastle's ECDSA: a P-384 verification takes about a quarter of the JDK 17 provider's time (ADR 0038)
            ECDSAVerifier verifier = new ECDSAVerifier(ec.toPublicJWK());
            verifier.getJCAContext().setProvider(com.nimbusds.jose.crypto.bc.BouncyCastleProviderSingleton.getInstance());
            return verifier;
        }
        if (JWSAlgorithm.RS384.equals(algorithm) && key instanceof RSAKey rsa && rsa.size() >= MIN_RSA_BITS) {
            return new RSASSAVerifier(rsa.toPublicJWK());
        }
        return null;
    }

    /** Whether every key of a JWKS meets the floor (public, EC P-384 or RSA of 2048 bits or more, for signing). */
    public static Optional<String> floorProblem(JWKSet keys) {
        if (keys.getKeys().isEmpty()) {
            return Optional.of("the JWKS holds no key");
        }
        for (JWK key : keys.getKeys()) {
            if (key.isPrivate()) {
                return Optional.of("the JWKS must hold public keys only");
            }
            boolean ec = key instanceof ECKey e && Curve.P_384.equals(e.getCurve());
            boolean rsa = key instanceof RSAKey r && r.size() >= MIN_RSA_BITS;
            if (!ec && !rsa) {
                return Optional.of("every key must be EC P-384 (ES384) or RSA of at least " + MIN_RSA_BITS + " bits (RS384)");
            }
        }
        return Optional.empty();
    }

    /**
     * The client's keys, from the registered client (one lookup per token request: the registry's
     * row carries the JWKS or its URL). A registered JWKS is parsed once per distinct document.
     */
    private List<JWK> keysOf(RegisteredClient client) {
        String jwks = client.getClientSettings().getSetting(ServiceClientRegistry.JWKS);
        String jwksUrl = client.getClientSettings().getSetting(ServiceClientRegistry.JWKS_URL);
        if (jwks != null) {
            return parsed.get(jwks, PrivateKeyJwtClients::parse);
        }
        return jwksUrl != null ? fetcher.keys(jwksUrl).orElseThrow(KeysUnavailable::new) : List.of();
    }

    private static List<JWK> parse(String jwks) {
        try {
            return List.copyOf(JWKSet.parse(jwks).getKeys());
        } catch (ParseException unusable) {
            return List.of();
        }
    }

    /** Records the jti; false if this client used it before (on any node). Prunes expired rows. */
    private boolean firstUse(String clientId, String jti, Instant keepUntil, Instant now) {
        // Pruning is for space only (a stale row can only refuse a jti whose assertion expired anyway):
        // at most every 10 seconds per node, not on every token request.
        Instant last = lastPruned;
        if (last == null || now.isAfter(last.plusSeconds(10))) {
            lastPruned = now;
            jdbc.sql("delete from iam.client_assertion where expires_at < ?").param(Timestamp.from(now)).update();
        }
        return jdbc.sql("insert into iam.client_assertion (client_id, jti, expires_at) values (?, ?, ?)"
                        + " on conflict do nothing")
                .params(clientId, jti, Timestamp.from(keepUntil))
                .update() == 1;
    }

    private static OAuth2AuthenticationException refused() {
        return new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
    }
}
