package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.access.ClientAddress;
import health.carapace.crypto.SystemSecrets;
import health.carapace.signin.ServiceClients;
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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
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
 * Failed client secrets at the token endpoint back off per client id and per address: 429 with
 * {@code Retry-After} and {@code slow_down}, the right secret refused the same way while the
 * back-off lasts (no oracle, no Argon2id run), each throttled request audited as a failed login
 * with the reason {@code throttled}. The back-off's end is shown on the real components with a
 * clock the test advances.
 *
 * <p>The back-off here is a minute, not the default second: the requests that must land inside it
 * each cost an Argon2id check, and on a loaded machine a second can pass between two of them.
 *
 * <p>It must also hold when the wrong secrets arrive at once, not only one after another, and a
 * stranger who knows a client id (it is in every token's {@code sub}) must not be able to shut that
 * client out. Found in review (after issue 12): 15 concurrent wrong secrets were all checked
 * (15 × Argon2id, 401 each, limit 5), and left the client refused with 429 and
 * {@code Retry-After: 898} for its right secret.
 */
@org.springframework.test.context.TestPropertySource(properties = "carapace.login.backoff-base=PT1M")
class ClientSecretThrottleTest extends IntegrationTest {

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
        // The tests connect from loopback, as every other test does: leave its count as it was.
        for (String loopback : new String[] {"127.0.0.1", "0:0:0:0:0:0:0:1"}) {
            throttle.clientSucceeded("none", loopback);
        }
    }

    @Test
    void wrongSecretsForOneClientAreThrottledWith429AndRetryAfterEvenForTheRightSecret() {
        ServiceClients.Credentials client = serviceClients.create("throttled-client");
        for (int i = 0; i < settings.maxFailures(); i++) {
            HttpResponse<String> wrong = tokenRequest(client.clientId(), client.clientSecret() + "x" + i);
            assertThat(wrong.statusCode()).as("failure %d is free", i + 1).isEqualTo(401);
            assertThat(wrong.body()).contains("\"error\":\"invalid_client\"");
        }

        HttpResponse<String> throttled = tokenRequest(client.clientId(), client.clientSecret() + "y");
        HttpResponse<String> rightSecret = tokenRequest(client.clientId(), client.clientSecret());

        assertThrottled(throttled, client.clientSecret() + "y");
        // The right secret during the back-off: the same answer, so the throttle is no oracle.
        assertThrottled(rightSecret, client.clientSecret());
        assertThat(rightSecret.body()).isEqualTo(throttled.body());
        assertThat(audited(client.clientId(), "throttled")).isEqualTo(2);
        assertThat(audited(client.clientId(), null)).isEqualTo(settings.maxFailures());
        assertThat(audited(client.clientId(), "login")).isZero();
    }

    @Test
    void oneAddressFailingAcrossManyClientIdsIsThrottledForEveryClient() {
        ServiceClients.Credentials bystander = serviceClients.create("throttled-address-bystander");
        int free = 5 * settings.maxFailures();
        for (int i = 0; i < free; i++) {
            // Unknown ids count exactly like known ones, and each id stays below its own limit.
            assertThat(tokenRequest("svc-" + UUID.randomUUID(), "guess-" + i).statusCode()).as("failure %d", i + 1)
                    .isEqualTo(401);
        }

        assertThrottled(tokenRequest("svc-" + UUID.randomUUID(), "guess"), "guess");
        // From this address, even a client with its right secret waits: the address is spraying.
        assertThrottled(tokenRequest(bystander.clientId(), bystander.clientSecret()), bystander.clientSecret());
        assertThat(audited(bystander.clientId(), "throttled")).isEqualTo(1);
    }

    @Test
    void afterTheBackOffTheRightSecretWorksAndResetsTheCount() {
        // Whole milliseconds: the database keeps microseconds, so the stored failure times are exact.
        MovableClock clock = MovableClock.startingNow();
        LoginThrottle throttleWithClock = new LoginThrottle(dataSource, secrets, settings, clock);
        ClientSecretAuthenticationProvider springSecrets = new ClientSecretAuthenticationProvider(clients, authorizations);
        java.util.concurrent.atomic.AtomicInteger hashChecks = new java.util.concurrent.atomic.AtomicInteger();
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
        ThrottledClientSecrets provider = new ThrottledClientSecrets(springSecrets, throttleWithClock, clientAddress);
        ServiceClients.Credentials client = serviceClients.create("throttled-then-waits");
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/oauth2/token");
        request.setRemoteAddr("192.0.2." + (1 + new java.util.Random().nextInt(250)));
        RequestContextHolder.setRequestAttributes(new ServletRequestAttributes(request));
        try {
            for (int i = 0; i < settings.maxFailures(); i++) {
                assertThatThrownBy(() -> provider.authenticate(attempt(client.clientId(), "wrong")))
                        .isInstanceOf(OAuth2AuthenticationException.class)
                        .isNotInstanceOf(ThrottledClientSecrets.Throttled.class);
            }
            int checksBefore = hashChecks.get();
            assertThatThrownBy(() -> provider.authenticate(attempt(client.clientId(), client.clientSecret())))
                    .isInstanceOfSatisfying(ThrottledClientSecrets.Throttled.class,
                            throttled -> assertThat(throttled.retryAfterSeconds()).isEqualTo(settings.backoffBase().toSeconds()));
            assertThat(hashChecks.get()).as("a throttled attempt runs no Argon2id check").isEqualTo(checksBefore);
            assertThat(checksBefore).as("control: the wrong secrets were checked").isEqualTo(settings.maxFailures());

            clock.advance(settings.backoffBase());
            // One more failure after the wait doubles it.
            assertThatThrownBy(() -> provider.authenticate(attempt(client.clientId(), "wrong again")))
                    .isNotInstanceOf(ThrottledClientSecrets.Throttled.class);
            clock.advance(settings.backoffBase());
            assertThatThrownBy(() -> provider.authenticate(attempt(client.clientId(), client.clientSecret())))
                    .isInstanceOfSatisfying(ThrottledClientSecrets.Throttled.class,
                            throttled -> assertThat(throttled.retryAfterSeconds()).isEqualTo(settings.backoffBase().toSeconds()));
            clock.advance(settings.backoffBase());

            Authentication authenticated = provider.authenticate(attempt(client.clientId(), client.clientSecret()));
            assertThat(authenticated.isAuthenticated()).isTrue();
            // The count starts again: the next wrong secret is answered as wrong, not throttled.
            assertThatThrownBy(() -> provider.authenticate(attempt(client.clientId(), "wrong")))
                    .isNotInstanceOf(ThrottledClientSecrets.Throttled.class);
            assertThat(throttleWithClock.clientWait(client.clientId(), request.getRemoteAddr())).isZero();
        } finally {
            RequestContextHolder.resetRequestAttributes();
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

    private void assertThrottled(HttpResponse<String> response, String sentSecret) {
        assertThat(response.statusCode()).as("body: %s", response.body()).isEqualTo(429);
        long retryAfter = Long.parseLong(response.headers().firstValue("Retry-After").orElseThrow());
        assertThat(retryAfter).isBetween(1L, settings.lockout().toSeconds());
        assertThat(response.body()).isEqualTo("{\"error\":\"slow_down\"}");
        assertThat(response.body()).doesNotContain(sentSecret).doesNotContain("access_token");
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type)
                .startsWith("application/json"));
    }

    private HttpResponse<String> tokenRequest(String clientId, String secret) {
        String basic = Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8));
        return sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
    }

    /** Failed logins of a client with this audit reason (null: without one); "login" counts tokens issued. */
    private long audited(String clientId, String reason) {
        if ("login".equals(reason)) {
            return JdbcClient.create(dataSource).sql("select count(*) from audit.event where actor = ? and action = 'login'")
                    .param(clientId).query(Long.class).single();
        }
        return JdbcClient.create(dataSource).sql("""
                select count(*) from audit.event where actor = ? and action = 'login_failed' and outcome = 'failure'
                  and coalesce(convert_from(body, 'UTF8')::jsonb ->> 'reason', '') = ?""")
                .params(clientId, reason == null ? "" : reason).query(Long.class).single();
    }
}
