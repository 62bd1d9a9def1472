package health.carapace.signin.internal;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import health.carapace.audit.AuditTrail;
import health.carapace.crypto.SystemSecrets;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.oauth2.server.authorization.OAuth2AuthorizationServerConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;
import org.springframework.security.crypto.password.DelegatingPasswordEncoder;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtIssuerValidator;
import org.springframework.security.oauth2.jwt.JwtTimestampValidator;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.server.authorization.authentication.ClientSecretAuthenticationProvider;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2TokenIntrospectionAuthenticationProvider;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2TokenRevocationAuthenticationProvider;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.settings.AuthorizationServerSettings;
import org.springframework.security.oauth2.server.resource.web.authentication.BearerTokenAuthenticationFilter;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.firewall.HttpFirewall;

/**
 * Two filter chains. The authorization server's own endpoints (token, JWKS, discovery) come
 * first; everything else is the API chain, where only {@code GET /fhir/metadata} and
 * {@code GET /health} are open, {@code /fhir/**} needs a valid bearer token, and every other
 * route is denied. Access tokens are ES256 JWTs that live at most 15 minutes. The sign-in pages
 * have a chain of their own ({@link SignInConfiguration}, ADR 0007).
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {

    static final Duration MAX_TOKEN_TTL = Duration.ofMinutes(15);

    @Bean
    PasswordEncoder secretHasher() {
        // Argon2id for every stored secret; the map keeps hashes self-describing ({argon2}...).
        String id = "argon2";
        // OWASP's Argon2id minimum (m = 19 MiB, t = 2, p = 1); Spring's v5.8 defaults use 16 MiB.
        // Hashes carry their parameters, so hashes made with older parameters still verify.
        return new DelegatingPasswordEncoder(id, Map.of(id, new Argon2PasswordEncoder(16, 32, 1, 19 * 1024, 2)));
    }

    @Bean
    Duration accessTokenTtl(@Value("${carapace.token.ttl}") Duration ttl) {
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TOKEN_TTL) > 0) {
            throw new IllegalStateException("carapace.token.ttl must be between 1 second and 15 minutes");
        }
        return ttl;
    }

    @Bean
    RegisteredClientRepository registeredClientRepository(DataSource dataSource, Duration accessTokenTtl,
            SignInSettings signIn) {
        return new ServiceClientRegistry(dataSource, accessTokenTtl, signIn.idleTimeout());
    }

    @Bean
    JWKSource<SecurityContext> jwkSource(SystemSecrets secrets) {
        return new ImmutableJWKSet<>(new JWKSet(TokenSigningKey.load(secrets)));
    }

    @Bean
    OAuth2TokenCustomizer<JwtEncodingContext> es256Tokens() {
        // Our signing key is EC P-256; the encoder would otherwise look for an RS256 key.
        return context -> context.getJwsHeader().algorithm(SignatureAlgorithm.ES256);
    }

    @Bean
    AuthorizationServerSettings authorizationServerSettings(@Value("${carapace.issuer}") String issuer) {
        return AuthorizationServerSettings.builder().issuer(issuer).build();
    }

    /** Signs every token the authorization server issues, in the one canonical (low-s) form. */
    @Bean
    JwtEncoder tokenEncoder(JWKSource<SecurityContext> jwkSource) throws Exception {
        java.util.List<com.nimbusds.jose.jwk.JWK> keys = jwkSource.get(new com.nimbusds.jose.jwk.JWKSelector(
                new com.nimbusds.jose.jwk.JWKMatcher.Builder().keyType(com.nimbusds.jose.jwk.KeyType.EC).privateOnly(true)
                        .build()), null);
        if (keys.size() != 1) {
            throw new IllegalStateException("Exactly one token signing key is expected");
        }
        return CanonicalSignatures.lowS(new TokenSigner(keys.get(0).toECKey()));
    }

    @Bean
    JwtDecoder jwtDecoder(JWKSource<SecurityContext> jwkSource, @Value("${carapace.issuer}") String issuer,
            Clock clock) {
        // ES256 only (the one algorithm this server signs with), verified by BouncyCastle's ECDSA: the first
        // use of every token pays one verification, 1.4 ms with the JDK 17 provider, 0.15 ms with it (ADR 0038)
        com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory verifiers =
                new com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory();
        verifiers.getJCAContext().setProvider(com.nimbusds.jose.crypto.bc.BouncyCastleProviderSingleton.getInstance());
        JwtDecoder decoder = NimbusJwtDecoder.withJwkSource(jwkSource)
                .jwsAlgorithm(org.springframework.security.oauth2.jose.jws.SignatureAlgorithm.ES256)
                .jwtProcessorCustomizer(processor -> processor.setJWSVerifierFactory(verifiers))
                .build();
        // The defaults with the issuer (as createDefaultWithIssuer), but exp and nbf read the server's clock.
        JwtTimestampValidator timestamps = new JwtTimestampValidator();
        timestamps.setClock(clock);
        ((NimbusJwtDecoder) decoder).setJwtValidator(
                JwtValidators.createDefaultWithValidators(timestamps, new JwtIssuerValidator(issuer)));
        // The signature's form is checked before the cache or the verifier sees the token.
        return new CanonicalSignatures(new VerifiedTokenCache(decoder, clock, 100_000));
    }

    @Bean
    @Order(1)
    @ConditionalOnWebApplication
    SecurityFilterChain authorizationServerChain(HttpSecurity http, AuditTrail audit, HumanSignIn signIn,
            JwtDecoder jwtDecoder, RevokedTokens revokedTokens, SessionEndings sessionEndings, LoginThrottle throttle,
            health.carapace.access.ClientAddress clientAddress, LiveAccessTokens liveTokens, SignInSettings settings,
            RegisteredClientRepository clients, DataSource dataSource, Clock clock,
            health.carapace.platform.web.PublicBaseUrl baseUrl, JwksFetcher jwksFetcher,
            SmartAppOrigins appOrigins) throws Exception {
        OAuth2AuthorizationServerConfigurer authorizationServer = new OAuth2AuthorizationServerConfigurer();
        PrivateKeyJwtClients assertions = new PrivateKeyJwtClients(clients, dataSource, clock,
                () -> baseUrl.value() + "/oauth2/token", jwksFetcher, clientAddress);
        TokenRequests tokens = new TokenRequests(audit);
        http.securityMatcher(authorizationServer.getEndpointsMatcher())
                .with(authorizationServer, server -> server
                        .tokenEndpoint(token -> token
                                // a scope ceiling (SMART Backend Services) narrows client credentials
                                .authenticationProviders(providers -> providers.forEach(provider -> {
                                    if (provider instanceof org.springframework.security.oauth2.server.authorization
                                            .authentication.OAuth2ClientCredentialsAuthenticationProvider credentials) {
                                        credentials.setAuthenticationValidator(new SmartClientCredentials());
                                    }
                                }))
                                .accessTokenResponseHandler(tokens.issued())
                                .errorResponseHandler(tokens.refused()))
                        .tokenRevocationEndpoint(revocation -> revocation
                                // Access tokens are revoked in the database, for every node (ADR 0013).
                                .authenticationProviders(providers -> providers.replaceAll(provider ->
                                        provider instanceof OAuth2TokenRevocationAuthenticationProvider
                                                ? new AccessTokenRevocation(provider, jwtDecoder, revokedTokens, sessionEndings,
                                                        settings.maxLifetime())
                                                : provider))
                                .revocationResponseHandler(tokens.revoked())
                                .errorResponseHandler(tokens.revocationRefused()))
                        .tokenIntrospectionEndpoint(introspection -> introspection
                                // The API's answer, not the node's memory; only about the client's own tokens.
                                .authenticationProviders(providers -> providers.replaceAll(provider ->
                                        provider instanceof OAuth2TokenIntrospectionAuthenticationProvider
                                                ? new AccessTokenIntrospection(jwtDecoder, liveTokens)
                                                : provider)))
                        .clientAuthentication(client -> client
                                // SMART Backend Services: private_key_jwt against the registered keys, jti once
                                .authenticationConverter(assertions)
                                .authenticationProvider(assertions)
                                // Failed client secrets back off per client id and per address.
                                .authenticationProviders(providers -> providers.replaceAll(provider ->
                                        provider instanceof ClientSecretAuthenticationProvider
                                                ? new ThrottledClientSecrets(provider, throttle, clientAddress)
                                                : provider))
                                .errorResponseHandler(tokens.clientRefused())))
                .authorizeHttpRequests(requests -> requests.anyRequest().authenticated())
                // browser-based SMART apps exchange their code from their own origin (ADR 0027)
                .cors(cors -> cors.configurationSource(appOrigins));
        // People sign in through the authorization endpoint (code + PKCE, password and TOTP): ADR 0007.
        signIn.configure(authorizationServer, http);
        return http.build();
    }

    /** JWKS URLs of backend clients: public addresses only, loopback in start-dev and tests (JwksReadiness). */
    @Bean
    JwksFetcher jwksFetcher(@Value("${" + JwksReadiness.ALLOW_LOOPBACK + ":false}") boolean loopbackAllowed,
            @Value("${" + JwksReadiness.TRUST_STORE + ":}") String trustStore,
            @Value("${" + JwksReadiness.TRUST_STORE_PASSWORD + ":}") String trustStorePassword) {
        return new JwksFetcher(loopbackAllowed, JwksFetcher.trusting(trustStore, trustStorePassword),
                java.net.InetAddress::getAllByName);
    }

    @Bean
    SmartAppOrigins smartAppOrigins(DataSource dataSource, Clock clock) {
        return new SmartAppOrigins(dataSource, clock);
    }

    @Bean
    CallerChanges callerChanges(DataSource dataSource) {
        return new CallerChanges(dataSource);
    }

    @Bean
    LiveAccessTokens liveAccessTokens(DataSource dataSource, Clock clock, CallerChanges changes) {
        return new LiveAccessTokens(dataSource, clock, changes);
    }

    @Bean
    RevokedTokens revokedTokens(DataSource dataSource, Clock clock, CallerChanges changes) {
        return new RevokedTokens(dataSource, clock, changes);
    }

    @Bean
    @ConditionalOnWebApplication
    org.springframework.boot.web.servlet.FilterRegistrationBean<SmartDiscovery> smartDiscovery(
            @Value("${carapace.issuer}") String issuer, health.carapace.platform.web.PublicBaseUrl baseUrl) {
        // After Spring Security (which lets GET through unauthenticated), before the FHIR servlet.
        var registration = new org.springframework.boot.web.servlet.FilterRegistrationBean<>(new SmartDiscovery(issuer, baseUrl));
        registration.addUrlPatterns(SmartDiscovery.PATHS.toArray(String[]::new));
        return registration;
    }

    @Bean
    HttpFirewall httpFirewall() {
        return HeaderFirewall.create();
    }

    @Bean
    DeniedRequests deniedRequests(AuditTrail audit) {
        return new DeniedRequests(audit);
    }

    @Bean
    @Order(2)
    @ConditionalOnWebApplication
    SecurityFilterChain apiChain(HttpSecurity http, DeniedRequests denied, LiveAccessTokens liveTokens,
            health.carapace.access.AccessPolicy policy, health.carapace.access.ClientAddress clientAddress, Clock clock,
            SmartAppOrigins appOrigins) throws Exception {
        // Admin routes: a permission granted by a role of the caller, now, from this address.
        PermissionAuthorization permissions = new PermissionAuthorization(policy, clientAddress, clock);
        http.addFilterAfter(new CallerResolution(liveTokens, denied), BearerTokenAuthenticationFilter.class)
                .authorizeHttpRequests(requests -> requests
                        .requestMatchers(HttpMethod.GET, "/fhir/metadata", "/health", "/health/live", "/health/ready").permitAll()
                        .requestMatchers(HttpMethod.GET, SmartDiscovery.PATHS.toArray(String[]::new)).permitAll()
                        // SMART apps: registered by administrators; EHR launches opened by a signed-in person
                        .requestMatchers(HttpMethod.POST, "/admin/apps")
                                .access(permissions.requires(health.carapace.access.Permissions.MANAGE_USERS))
                        .requestMatchers(HttpMethod.POST, "/smart/launch").authenticated()
                        // Bulk Data: job status and files, for the client that started the export (docs/BULK.md)
                        .requestMatchers("/export/jobs/*", "/export/files/*/*").authenticated()
                        .requestMatchers("/fhir", "/fhir/**").authenticated()
                        // the visit page, its scripts and the signaling socket, which authenticates
                        // its first message (a one-time ticket or the patient's link); tickets need a token
                        .requestMatchers(HttpMethod.GET, "/telehealth/visit", "/telehealth/static/*", "/telehealth/signal")
                                .permitAll()
                        .requestMatchers(HttpMethod.POST, "/telehealth/visits/*/join").authenticated()
                        .requestMatchers(HttpMethod.GET, "/admin/audit/**")
                                .access(permissions.requires(health.carapace.access.Permissions.VIEW_AUDIT))
                        // the access review discloses break-glass reasons: the audit trail's permission;
                        // recording a review of one is incident work as well (docs/ACCESS.md, ADR 0032)
                        .requestMatchers(HttpMethod.GET, "/admin/access-review")
                                .access(permissions.requires(health.carapace.access.Permissions.VIEW_AUDIT))
                        .requestMatchers(HttpMethod.POST, "/admin/access-review/break-glass/*")
                                .access(permissions.requires(health.carapace.access.Permissions.VIEW_AUDIT,
                                        health.carapace.access.Permissions.MANAGE_INCIDENTS))
                        // the one stylesheet of the sign-in pages (and the console): no data, cached long
                        .requestMatchers(HttpMethod.GET, "/assets/carapace.css").permitAll()
                        .requestMatchers("/admin/roles", "/admin/roles/**")
                                .access(permissions.requires(health.carapace.access.Permissions.MANAGE_USERS))
                        // manage:users is decided by the endpoint against the caller's roles
                        .requestMatchers(HttpMethod.PUT, "/admin/assignments/*/*").authenticated()
                        .requestMatchers(HttpMethod.DELETE, "/admin/assignments/*/*").authenticated()
                        .requestMatchers("/admin/keys/**")
                                .access(permissions.requires(health.carapace.access.Permissions.MANAGE_KEYS))
                        .requestMatchers(HttpMethod.GET, "/admin/metrics")
                                .access(permissions.requires(health.carapace.access.Permissions.VIEW_METRICS))
                        .requestMatchers(HttpMethod.GET, "/admin/compliance", "/admin/compliance/**")
                                .access(permissions.requires(health.carapace.access.Permissions.VIEW_COMPLIANCE))
                        .requestMatchers(HttpMethod.GET, "/admin/incidents", "/admin/incidents/**")
                                .access(permissions.requires(health.carapace.access.Permissions.VIEW_INCIDENTS))
                        .requestMatchers("/admin/incidents/**", "/admin/privacy/**")
                                .access(permissions.requires(health.carapace.access.Permissions.MANAGE_INCIDENTS))
                        .anyRequest().denyAll())
                .oauth2ResourceServer(resourceServer -> resourceServer
                        // Spring's resolution without its regular expression on well-formed headers
                        .bearerTokenResolver(new BearerHeader())
                        .jwt(Customizer.withDefaults())
                        .authenticationEntryPoint(denied)
                        .accessDeniedHandler(denied))
                .exceptionHandling(exceptions -> exceptions
                        .authenticationEntryPoint(denied)
                        .accessDeniedHandler(denied))
                .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                // Bearer tokens only: no cookie or session is ever honoured, so there is no CSRF surface.
                .csrf(csrf -> csrf.disable())
                // browser-based SMART apps call discovery and the FHIR API from their own origin (ADR 0027)
                .cors(cors -> cors.configurationSource(appOrigins));
        return http.build();
    }
}
