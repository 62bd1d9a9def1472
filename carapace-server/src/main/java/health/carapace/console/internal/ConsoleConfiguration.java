package health.carapace.console.internal;

import health.carapace.access.AccessPolicy;
import health.carapace.access.ClientAddress;
import health.carapace.audit.AuditTrail;
import health.carapace.console.ConsoleApp;
import health.carapace.crypto.SystemSecrets;
import health.carapace.platform.web.PublicBaseUrl;
import health.carapace.signin.AccessTokenCallers;
import health.carapace.signin.LoginApps;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.csrf.CsrfFilter;
import org.springframework.security.web.savedrequest.NullRequestCache;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.thymeleaf.ITemplateEngine;
import org.thymeleaf.cache.StandardCacheManager;
import org.thymeleaf.spring6.SpringTemplateEngine;

/**
 * The console's filter chain, its sessions and its registration as a sign-in app (ADR 0031).
 */
@Configuration(proxyBeanMethods = false)
class ConsoleConfiguration {

    @Bean
    ConsoleSeal consoleSeal(SystemSecrets secrets) {
        return new ConsoleSeal(secrets);
    }

    @Bean
    ConsoleSessions consoleSessions(DataSource dataSource, ConsoleSeal seal, Clock clock,
            @Value("${carapace.session.idle-timeout}") Duration idleTimeout) {
        return new ConsoleSessions(dataSource, seal, clock, idleTimeout);
    }

    /**
     * Parsed template expressions Thymeleaf keeps. Its default, 500, is fewer than the console's
     * pages hold together (each attribute's expression and the SpEL inside it are kept apart, over
     * 500 for the pages in TemplateExpressionCacheTest): an officer moving between pages evicted
     * expressions that the next page parsed again and, with the SpEL compiler on, compiled into new
     * classes again.
     */
    static final int TEMPLATE_EXPRESSIONS_KEPT = 5_000;

    @Bean
    static BeanPostProcessor templateExpressionCache() {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessBeforeInitialization(Object bean, String name) {
                if (bean instanceof SpringTemplateEngine engine) {
                    StandardCacheManager caches = new StandardCacheManager();
                    caches.setExpressionCacheMaxSize(TEMPLATE_EXPRESSIONS_KEPT);
                    engine.setCacheManager(caches);
                }
                return bean;
            }
        };
    }

    @Bean
    PendingSignIn pendingSignIn(ConsoleSeal seal, Clock clock) {
        return new PendingSignIn(seal, clock);
    }

    @Bean
    ConsoleAccess consoleAccess(AccessPolicy policy, ClientAddress clientAddress, AuditTrail audit, Clock clock) {
        return new ConsoleAccess(policy, clientAddress, audit, clock);
    }

    @Bean
    TokenEndpoint consoleTokenEndpoint(PublicBaseUrl baseUrl, Clock clock,
            @Value("${server.ssl.key-store:}") String keyStore,
            @Value("${server.ssl.key-store-type:PKCS12}") String keyStoreType,
            @Value("${server.ssl.key-store-password:}") String keyStorePassword) {
        return new TokenEndpoint(baseUrl, () -> trustingOwnCertificate(keyStore, keyStoreType, keyStorePassword), clock);
    }

    /** Pages and assets: the console's session, Spring Security's CSRF check, strict headers; no HTTP session. */
    @Bean
    @Order(0)
    @ConditionalOnWebApplication
    SecurityFilterChain consoleChain(HttpSecurity http, ConsoleSessions sessions, PendingSignIn pending,
            TokenEndpoint tokenEndpoint, AccessTokenCallers callers, ConsoleAccess access, ITemplateEngine templates)
            throws Exception {
        ErrorPages errors = new ErrorPages(templates);
        http.securityMatcher(ConsoleApp.PATH, ConsoleApp.PATH + "/**", "/assets/**")
                .authorizeHttpRequests(requests -> requests
                        // the design and the scripts every page loads: files of the build, no data
                        // (named one by one: nothing else under /assets answers without a caller)
                        .requestMatchers(HttpMethod.GET, "/assets/carapace.css", "/assets/console.js",
                                "/assets/htmx-2.0.11.min.js").permitAll()
                        .requestMatchers("/assets/**").denyAll()
                        .requestMatchers(HttpMethod.GET, ConsoleApp.CALLBACK, ConsoleApp.PATH + "/signed-out").permitAll()
                        .anyRequest().authenticated())
                .addFilterBefore(new ConsoleSignInFilter(sessions, pending, tokenEndpoint, callers, access, errors),
                        CsrfFilter.class)
                .csrf(csrf -> csrf.csrfTokenRepository(new SessionCsrfTokens()))
                .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .requestCache(cache -> cache.requestCache(new NullRequestCache()))
                .headers(headers -> headers
                        .contentSecurityPolicy(csp -> csp.policyDirectives(ConsoleHeaders.CSP))
                        .frameOptions(frame -> frame.deny())
                        .referrerPolicy(referrer -> referrer.policy(
                                org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter.ReferrerPolicy.NO_REFERRER)))
                .exceptionHandling(exceptions -> exceptions
                        .authenticationEntryPoint((request, response, e) -> {
                            access.denied(request, "anonymous", ConsolePaths.audited(request));
                            errors.write(response, HttpServletResponse.SC_UNAUTHORIZED,
                                    "Your console session has ended. Open the console again to sign in.");
                        })
                        .accessDeniedHandler((request, response, e) -> {
                            // a missing, forged or stale CSRF token (permissions are decided by the pages)
                            access.denied(request, ConsoleAccess.principalOf(request), ConsolePaths.audited(request));
                            errors.write(response, HttpServletResponse.SC_FORBIDDEN,
                                    "This form has expired or did not come from the console. Reload the page and try again.");
                        }));
        return http.build();
    }

    /** Console pages answer an undecodable query or form with their own error page, not an OperationOutcome. */
    @Bean
    health.carapace.platform.web.DecodableParameters.FormPages consoleFormPages() {
        return request -> request.getRequestURI().equals(ConsoleApp.PATH)
                || request.getRequestURI().startsWith(ConsoleApp.PATH + "/");
    }

    /**
     * The console registers itself as a public sign-in app (PKCE), redirecting only to its own
     * callback at the server's public address, at every start (the address may have changed).
     */
    @Bean
    @ConditionalOnWebApplication
    ApplicationListener<ApplicationReadyEvent> registerConsoleApp(LoginApps apps, PublicBaseUrl baseUrl) {
        return event -> apps.registerBuiltIn(ConsoleApp.CLIENT_ID, "Carapace console",
                List.of(baseUrl.value() + ConsoleApp.CALLBACK));
    }

    /**
     * TLS for the console's calls to the token endpoint at the public address: the JDK's trusted
     * authorities, and the certificate this server itself presents (start-dev and the tests use a
     * self-signed one). Trusting one's own certificate trusts nothing new: whoever holds its key
     * already is this server.
     */
    static SSLContext trustingOwnCertificate(String keyStorePath, String type, String password) {
        try {
            TrustManagerFactory defaults = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            defaults.init((KeyStore) null);
            KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            int n = 0;
            for (var manager : defaults.getTrustManagers()) {
                if (manager instanceof X509TrustManager x509) {
                    for (X509Certificate authority : x509.getAcceptedIssuers()) {
                        trusted.setCertificateEntry("default-" + n++, authority);
                    }
                }
            }
            if (keyStorePath != null && !keyStorePath.isBlank()) {
                KeyStore own = KeyStore.getInstance(type);
                try (InputStream in = Files.newInputStream(Path.of(keyStorePath.replaceFirst("^file:", "")))) {
                    own.load(in, password.toCharArray());
                }
                for (String alias : Collections.list(own.aliases())) {
                    Certificate certificate = own.getCertificate(alias);
                    if (certificate != null) {
                        trusted.setCertificateEntry("own-" + n++, certificate);
                    }
                }
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trusted);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, factory.getTrustManagers(), null);
            return tls;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("the console cannot set up TLS to its own token endpoint", e);
        }
    }
}
