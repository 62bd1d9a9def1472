package health.carapace.signin.internal;

import health.carapace.audit.AuditTrail;
import health.carapace.crypto.SystemSecrets;
import health.carapace.platform.web.DecodableParameters;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.OAuth2Token;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.token.DelegatingOAuth2TokenGenerator;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.JwtGenerator;
import org.springframework.security.oauth2.server.authorization.token.OAuth2AccessTokenGenerator;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenGenerator;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.csrf.CsrfFilter;
import org.springframework.security.web.savedrequest.NullRequestCache;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** Human sign-in: users, sessions, throttling, TOTP, the sign-in pages' filter chain, token claims. */
@Configuration(proxyBeanMethods = false)
class SignInConfiguration {

    /** The public client that start-dev registers for local tools and tests (loopback redirect, any port). */
    static final String DEV_CONSOLE = "dev-console";

    @Bean
    SignInSettings signInSettings(@Value("${carapace.session.idle-timeout}") Duration idleTimeout,
            @Value("${carapace.session.max-lifetime}") Duration maxLifetime,
            @Value("${carapace.login.max-failures}") int maxFailures,
            @Value("${carapace.login.lockout}") Duration lockout,
            @Value("${carapace.login.backoff-base}") Duration backoffBase,
            @Value("${carapace.login.enrolment-link-ttl}") Duration enrolmentLinkTtl) {
        return new SignInSettings(idleTimeout, maxLifetime, maxFailures, lockout, backoffBase, enrolmentLinkTtl);
    }

    @Bean
    Sessions sessions(DataSource dataSource, SignInSettings settings, Clock clock, CallerChanges changes) {
        return new Sessions(dataSource, settings, clock, changes);
    }

    @Bean
    UserDirectory userDirectory(DataSource dataSource) {
        return new UserDirectory(dataSource);
    }

    @Bean
    LoginThrottle loginThrottle(DataSource dataSource, SystemSecrets secrets, SignInSettings settings, Clock clock) {
        return new LoginThrottle(dataSource, secrets, settings, clock);
    }

    @Bean
    TotpSeals totpSeals(SystemSecrets secrets) {
        return new TotpSeals(secrets);
    }

    @Bean
    HumanSignIn humanSignIn(RegisteredClientRepository clients, JwtEncoder tokenEncoder,
            OAuth2TokenCustomizer<JwtEncodingContext> es256Tokens, Sessions sessions, Duration accessTokenTtl,
            health.carapace.platform.web.PublicBaseUrl baseUrl, SignInStateSeal seal,
            @Value("${server.servlet.session.timeout}") Duration pagesTimeout) {
        // Every token of the authorization server comes from this generator (service clients' too).
        JwtGenerator jwt = new JwtGenerator(tokenEncoder);
        jwt.setClock(sessions.clock());
        OAuth2TokenCustomizer<JwtEncodingContext> claims = sessionClaims(sessions, accessTokenTtl);
        OAuth2TokenCustomizer<JwtEncodingContext> smart = SmartTokens.claims(() -> baseUrl.value() + "/fhir");
        jwt.setJwtCustomizer(context -> {
            es256Tokens.customize(context);
            claims.customize(context);
            smart.customize(context);
        });
        OAuth2TokenGenerator<OAuth2Token> tokens = new DelegatingOAuth2TokenGenerator(jwt, new OAuth2AccessTokenGenerator(),
                new RotatingRefreshTokens());
        // the request waits in the browser as long as a sign-in session would have kept it
        return new HumanSignIn(new PublicClientAuthentication(clients), tokens,
                new SmartAuthorizationRequests(() -> baseUrl.value() + "/fhir"),
                new AuthorizationRequestCookie(HumanSignIn.AUTHORIZE, seal, sessions.clock(), pagesTimeout));
    }

    @Bean
    SmartLaunches smartLaunches(DataSource dataSource, Clock clock) {
        return new SmartLaunches(dataSource, clock);
    }

    /**
     * Every access token says what kind of principal it is for ({@code kind}); a person's also names
     * the sign-in session ({@code sid}), which must still be active for the token to be issued
     * at all, and the token never outlives the session's idle deadline.
     */
    static OAuth2TokenCustomizer<JwtEncodingContext> sessionClaims(Sessions sessions, Duration accessTokenTtl) {
        return context -> {
            if (!OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())) {
                return;
            }
            if (context.getPrincipal() instanceof HumanLogin login) {
                Sessions.Active active = sessions.extend(login.sessionId())
                        .orElseThrow(() -> new OAuth2AuthenticationException(new OAuth2Error(OAuth2ErrorCodes.INVALID_GRANT)));
                Instant now = sessions.clock().instant();
                Instant expiresAt = now.plus(accessTokenTtl);
                if (active.idleExpiresAt().isBefore(expiresAt)) {
                    expiresAt = active.idleExpiresAt();
                }
                context.getClaims().claim("sid", login.sessionId().toString()).claim("kind", "user")
                        .issuedAt(now).notBefore(now).expiresAt(expiresAt);
            } else {
                context.getClaims().claim("kind", "client");
            }
        };
    }

    @Bean
    SessionEndings sessionEndings(Sessions sessions, AuditTrail audit) {
        return new SessionEndings(sessions, audit);
    }

    @Bean
    SignInStateSeal signInStateSeal(health.carapace.crypto.StateSeals seals, SignInSettings settings,
            @Value("${server.servlet.session.timeout}") Duration pagesTimeout) {
        // an issued authorization lives as long as its session may; the pages' state much less
        Duration longest = settings.maxLifetime().compareTo(pagesTimeout) > 0 ? settings.maxLifetime() : pagesTimeout;
        return new SignInStateSeal(seals, longest);
    }

    /**
     * Issued authorizations in PostgreSQL, shared by every node (ADR 0030); ends the sign-in
     * session behind a revoked or replayed refresh token, and audits it.
     */
    @Bean
    org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService authorizationService(
            DataSource dataSource, PlatformTransactionManager transactionManager, SignInStateSeal seal,
            Duration accessTokenTtl, SessionEndings endings, RevokedTokens revokedTokens, AuditTrail audit) {
        return new StoredAuthorizations(dataSource, new TransactionTemplate(transactionManager), seal, accessTokenTtl,
                (login, ending) -> endings.end(login.sessionId(), login.getName(), ending),
                revokedTokens::isRevokedRefreshToken, new SignInStateRefusals(audit));
    }

    /** The sign-in pages: browser session and CSRF protection, nothing else of the API's rules. */
    @Bean
    @Order(0)
    @ConditionalOnWebApplication
    SecurityFilterChain signInPagesChain(HttpSecurity http) throws Exception {
        http.securityMatcher("/login", "/login/**")
                .authorizeHttpRequests(requests -> requests.anyRequest().permitAll())
                // The pages read the authorization request saved by the authorization server's chain; they never save one.
                .requestCache(cache -> cache.requestCache(new NullRequestCache()))
                // The CSRF token in a cookie of the browser (double submit), not in a session: a visitor
                // who has not given a password has no session, and so no row (ADR 0042). __Host- so no
                // sibling subdomain can plant one.
                .csrf(csrf -> csrf.csrfTokenRepository(csrfCookie()))
                // Every field checked before any page reads it (after the CSRF check, which reads its own).
                .addFilterAfter(new SignInFields(), CsrfFilter.class)
                .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.IF_REQUIRED))
                .exceptionHandling(exceptions -> exceptions.accessDeniedHandler((request, response, e) -> {
                    // A missing or wrong CSRF token: a plain refusal, no error page.
                    response.setStatus(HttpServletResponse.SC_FORBIDDEN);
                    response.setHeader("Cache-Control", "no-store");
                    response.setContentType("text/plain;charset=UTF-8");
                    response.getWriter().write("Forbidden. Reload the sign-in page and try again.");
                }));
        return http.build();
    }

    static final String CSRF_COOKIE = "__Host-CARAPACE_CSRF";

    private static org.springframework.security.web.csrf.CookieCsrfTokenRepository csrfCookie() {
        var cookie = new org.springframework.security.web.csrf.CookieCsrfTokenRepository();
        cookie.setCookieName(CSRF_COOKIE);
        cookie.setCookiePath("/");
        cookie.setCookieCustomizer(builder -> builder.secure(true).httpOnly(true).sameSite("Lax"));
        return cookie;
    }

    /** The sign-in pages answer an undecodable query or form with their own page, not an OperationOutcome. */
    @Bean
    DecodableParameters.FormPages signInFormPages() {
        return request -> request.getRequestURI().equals("/login") || request.getRequestURI().startsWith("/login/");
    }

    /** start-dev registers one public sign-in app with a loopback redirect, for local tools and tests. */
    @Bean
    ApplicationListener<ApplicationReadyEvent> devConsoleApp(@Value("${carapace.mode:}") String mode, DataSource dataSource) {
        return event -> {
            if ("dev".equals(mode)) {
                JdbcClient.create(dataSource).sql("insert into iam.login_app (client_id, name, redirect_uris)"
                                + " values (?, 'start-dev console', ?) on conflict (client_id) do nothing")
                        .params(DEV_CONSOLE, new String[] {"http://127.0.0.1/callback"})
                        .update();
            }
        };
    }
}
