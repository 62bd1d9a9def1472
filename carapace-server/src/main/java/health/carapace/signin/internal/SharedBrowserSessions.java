package health.carapace.signin.internal;

import health.carapace.audit.AuditTrail;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.session.config.annotation.web.http.EnableSpringHttpSession;
import org.springframework.session.web.http.CookieSerializer;
import org.springframework.session.web.http.DefaultCookieSerializer;
import org.springframework.session.web.http.SessionRepositoryFilter;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The sign-in pages' browser session (saved authorization request, CSRF token, the step between
 * password and TOTP, the signed-in person until the code is issued) lives in PostgreSQL through
 * Spring Session, so consecutive steps of one sign-in may hit different nodes and no load
 * balancer needs sticky routing (ADR 0030). Both what is stored and what the browser holds are
 * sealed ({@link SignInStateSeal}): attribute values before they reach the table, each bound to
 * its session ({@link SealedSignInSessions}), and the session id inside the cookie, so that
 * reading the table does not let anyone resume a sign-in and writing it does not let anyone take
 * over someone else's. A session begins only once a password has been accepted: before that the
 * browser holds the authorization request itself ({@link AuthorizationRequestCookie}) and a CSRF
 * cookie, and no row is written for a visitor (ADR 0042).
 * <p>
 * The cookie is {@code __Host-} prefixed: a browser accepts it only when Secure, for path
 * {@code /} and without a Domain, so a sibling subdomain cannot plant its own session on these
 * pages (login CSRF, session swap).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication
@EnableSpringHttpSession
class SharedBrowserSessions {

    static final String COOKIE = "__Host-CARAPACE_SIGNIN";
    static final String COOKIE_CONTEXT = "sign-in session cookie";

    /** Spring Session's filter as Spring registers it: left unregistered, {@link #signInSessionFilter} takes its place. */
    @Bean
    FilterRegistrationBean<SessionRepositoryFilter<?>> springSessionRepositoryFilterRegistration(
            SessionRepositoryFilter<?> sessions) {
        FilterRegistrationBean<SessionRepositoryFilter<?>> registration = new FilterRegistrationBean<>(sessions);
        registration.setEnabled(false);
        return registration;
    }

    /** The same filter, at the same place in the chain, for every request but the FHIR API's ({@link OffTheApi}). */
    @Bean
    FilterRegistrationBean<OffTheApi> signInSessionFilter(SessionRepositoryFilter<?> sessions) {
        FilterRegistrationBean<OffTheApi> registration = new FilterRegistrationBean<>(new OffTheApi(sessions));
        registration.setName("signInSessionFilter");
        registration.setOrder(SessionRepositoryFilter.DEFAULT_ORDER);
        return registration;
    }

    /**
     * Keeps the sign-in pages' browser session off the FHIR API. The API takes bearer tokens only
     * and never a session (its chain is stateless, see {@code SecurityConfiguration}), yet Spring
     * Session's filter wrapped every API request and response, opened any sign-in cookie sent
     * along, and sat between every later filter and Tomcat's request: on an authenticated read it
     * did nothing but cost (docs/BENCHMARKS.md, issue 13). Decided on the servlet path the
     * container routed by, as the lockdown decides what is PHI; a non-canonical path was refused
     * before this filter ({@code CanonicalPaths}).
     */
    static final class OffTheApi implements Filter {
        private final Filter sessions;

        OffTheApi(Filter sessions) {
            this.sessions = sessions;
        }

        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            if (request instanceof HttpServletRequest http && api(http)) {
                chain.doFilter(request, response);
            } else {
                sessions.doFilter(request, response, chain);
            }
        }

        static boolean api(HttpServletRequest request) {
            String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
            return path.equals("/fhir") || path.startsWith("/fhir/");
        }
    }

    @Bean
    SealedSignInSessions signInSessions(DataSource dataSource, PlatformTransactionManager transactionManager,
            SignInStateSeal seal, @Value("${server.servlet.session.timeout}") Duration timeout, AuditTrail audit) {
        return new SealedSignInSessions(dataSource, new TransactionTemplate(transactionManager), seal, timeout, audit);
    }

    @Bean
    CookieSerializer sealedSessionCookie(SignInStateSeal seal, AuditTrail audit) {
        SignInStateRefusals refusals = new SignInStateRefusals(audit);
        DefaultCookieSerializer cookie = new DefaultCookieSerializer();
        cookie.setCookieName(COOKIE);
        cookie.setCookiePath("/");
        cookie.setUseSecureCookie(true);
        cookie.setUseHttpOnlyCookie(true);
        cookie.setSameSite("Lax");
        cookie.setUseBase64Encoding(false);
        return new CookieSerializer() {
            @Override
            public void writeCookieValue(CookieValue value) {
                String id = value.getCookieValue();
                String sealed = id == null || id.isEmpty() ? "" : Base64.getUrlEncoder().withoutPadding()
                        .encodeToString(seal.seal(id.getBytes(StandardCharsets.US_ASCII), COOKIE_CONTEXT));
                CookieValue written = new CookieValue(value.getRequest(), value.getResponse(), sealed);
                written.setCookieMaxAge(value.getCookieMaxAge());
                cookie.writeCookieValue(written);
            }

            @Override
            public List<String> readCookieValues(jakarta.servlet.http.HttpServletRequest request) {
                return cookie.readCookieValues(request).stream()
                        .map(sealed -> opened(seal, sealed, request, refusals))
                        .flatMap(Optional::stream)
                        .toList();
            }
        };
    }

    /**
     * The session id a cookie carries, or empty when the cookie was not sealed by this installation
     * (forged, altered, or under a key destroyed since): audited, and the browser starts again.
     */
    private static Optional<String> opened(SignInStateSeal seal, String sealed, jakarta.servlet.http.HttpServletRequest request,
            SignInStateRefusals refusals) {
        if (sealed.isEmpty()) {
            return Optional.empty();
        }
        byte[] bytes;
        try {
            bytes = Base64.getUrlDecoder().decode(sealed);
        } catch (IllegalArgumentException notOurs) {
            refusals.refused(request, SignInStateRefusals.COOKIE_FORGED);
            return Optional.empty();
        }
        health.carapace.crypto.StateSeal.Opening opening = seal.opening(bytes, COOKIE_CONTEXT);
        if (opening.refusal() != null) {
            refusals.refused(request, SignInStateRefusals.reason(opening.refusal(), SignInStateRefusals.COOKIE_FORGED));
            return Optional.empty();
        }
        return Optional.of(new String(opening.plain(), StandardCharsets.US_ASCII));
    }
}
