package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.access.ClientAddress;
import health.carapace.signin.ServiceClients;
import health.carapace.crypto.SystemSecrets;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.MovableClock;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.core.Authentication;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.authentication.ClientSecretAuthenticationProvider;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * The client-secret throttle (ADR 0013) must hold when the wrong secrets arrive at once, not only
 * one after another: the check "may this secret be tried now" and the count of the failure must not
 * leave a window in which every request in flight is checked. And a stranger who knows a client id
 * (it is in every token's {@code sub}) must not be able to shut that client out: the right secret
 * from the client's own address still gets a token after the stranger's failures.
 * Found in review (after issue 12): 15 concurrent wrong secrets were all checked (15 × Argon2id,
 * 401 each, limit 5), and left the client refused with 429 and {@code Retry-After: 898} for its
 * right secret.
 */
@org.springframework.test.context.TestPropertySource(properties = "carapace.login.backoff-base=PT1M")
class ClientSecretThrottleHoldsUnderConcurrencyTest extends IntegrationTest {

    @Autowired
    private LoginThrottle throttle;

    @Autowired
    private SignInSettings settings;

    @Autowired
    private SystemSecrets secrets;

    @Autowired
    private RegisteredClientRepository clients;

    @Autowired
    private OAuth2AuthorizationService authorizations;

    @Autowired
    private PasswordEncoder secretHasher;

    @Autowired
    private ClientAddress clientAddress;

    @AfterEach
    void forgetTheLoopbackAddressesFailures() {
        for (String loopback : new String[] {"127.0.0.1", "0:0:0:0:0:0:0:1"}) {
            throttle.clientSucceeded("none", loopback);
        }
    }

    @Test
    void concurrentWrongSecretsAreCheckedNoMoreOftenThanTheLimitAllows() {
        ServiceClients.Credentials client = serviceClients.create("throttled-burst");
        int burst = 3 * settings.maxFailures();
        ExecutorService pool = Executors.newFixedThreadPool(burst);
        try {
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < burst; i++) {
                String guess = client.clientSecret() + "x" + i;
                answers.add(CompletableFuture.supplyAsync(() -> tokenRequest(client.clientId(), guess), pool));
            }
            List<HttpResponse<String>> responses = answers.stream().map(CompletableFuture::join).toList();
            long checked = responses.stream().filter(r -> r.statusCode() == 401).count();
            long throttled = responses.stream().filter(r -> r.statusCode() == 429).count();

            assertThat(checked).as("secrets checked").isEqualTo(settings.maxFailures());
            assertThat(throttled).isEqualTo(burst - checked);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aStrangersFailuresFromAnotherAddressDoNotShutTheClientOut() {
        MovableClock clock = new MovableClock(Instant.now().truncatedTo(ChronoUnit.MILLIS));
        AtomicInteger hashChecks = new AtomicInteger();
        ThrottledClientSecrets provider = providerWith(clock, hashChecks);
        ServiceClients.Credentials client = serviceClients.create("throttled-victim");
        String stranger = "198.51.100." + (1 + new java.util.Random().nextInt(250));
        String strangersSecondAddress = "203.0.113." + (1 + new java.util.Random().nextInt(250));
        String own = "192.0.2." + (1 + new java.util.Random().nextInt(250));
        try {
            // A patient stranger: every failure waits out the back-off, so each one counts and the
            // back-off of (client id, stranger's address) climbs towards the 15-minute cap.
            for (int i = 0; i < 3 * settings.maxFailures(); i++) {
                Duration wait = throttle(clock).clientWait(client.clientId(), stranger);
                clock.advance(wait);
                from(stranger);
                assertThatThrownBy(() -> provider.authenticate(attempt(client.clientId(), "guess")))
                        .isNotInstanceOf(ThrottledClientSecrets.Throttled.class);
            }
            from(stranger);
            assertThatThrownBy(() -> provider.authenticate(attempt(client.clientId(), client.clientSecret())))
                    .as("the stranger's address is throttled for long")
                    .isInstanceOfSatisfying(ThrottledClientSecrets.Throttled.class, throttled ->
                            assertThat(throttled.retryAfterSeconds()).isGreaterThan(settings.backoffBase().toSeconds()));
            // From a second address of the stranger: one more guess is slowed by the client id's
            // short rate limit once that address has failed too.
            from(strangersSecondAddress);
            assertThatThrownBy(() -> provider.authenticate(attempt(client.clientId(), "guess")))
                    .isNotInstanceOf(ThrottledClientSecrets.Throttled.class);
            from(strangersSecondAddress);
            assertThatThrownBy(() -> provider.authenticate(attempt(client.clientId(), "guess again")))
                    .isInstanceOfSatisfying(ThrottledClientSecrets.Throttled.class, throttled ->
                            assertThat(throttled.retryAfterSeconds()).isBetween(1L, LoginThrottle.CLIENT_ID_WAIT_CAP.toSeconds()));

            from(own);
            int checksBefore = hashChecks.get();
            Authentication authenticated = provider.authenticate(attempt(client.clientId(), client.clientSecret()));

            assertThat(authenticated.isAuthenticated()).as("the right secret from the client's own address").isTrue();
            assertThat(hashChecks.get()).isEqualTo(checksBefore + 1);
        } finally {
            RequestContextHolder.resetRequestAttributes();
        }
    }

    // --- helpers ------------------------------------------------------------------------------------

    private LoginThrottle throttle(Clock clock) {
        return new LoginThrottle(dataSource, secrets, settings, clock);
    }

    private ThrottledClientSecrets providerWith(Clock clock, AtomicInteger hashChecks) {
        ClientSecretAuthenticationProvider springSecrets = new ClientSecretAuthenticationProvider(clients, authorizations);
        springSecrets.setPasswordEncoder(new PasswordEncoder() {
            @Override
            public String encode(CharSequence raw) {
                return secretHasher.encode(raw);
            }

            @Override
            public boolean matches(CharSequence raw, String encoded) {
                hashChecks.incrementAndGet();
                return secretHasher.matches(raw, encoded);
            }
        });
        return new ThrottledClientSecrets(springSecrets, throttle(clock), clientAddress);
    }

    private static void from(String address) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/oauth2/token");
        request.setRemoteAddr(address);
        RequestContextHolder.setRequestAttributes(new ServletRequestAttributes(request));
    }

    private static OAuth2ClientAuthenticationToken attempt(String clientId, String secret) {
        return new OAuth2ClientAuthenticationToken(clientId, ClientAuthenticationMethod.CLIENT_SECRET_BASIC, secret, null);
    }

    private HttpResponse<String> tokenRequest(String clientId, String secret) {
        String basic = Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8));
        return sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
    }
}
