package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class ClientCredentialsTokensTest {

    private static final Duration LIFETIME = Duration.ofMinutes(15);

    /** A clock the test moves by hand. */
    private static final class ManualClock extends Clock {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    /** A token endpoint whose answers the test completes when it chooses. */
    private static final class ScriptedEndpoint implements Supplier<CompletableFuture<IssuedToken>> {
        final List<CompletableFuture<IssuedToken>> requests = new ArrayList<>();

        @Override
        public synchronized CompletableFuture<IssuedToken> get() {
            CompletableFuture<IssuedToken> request = new CompletableFuture<>();
            requests.add(request);
            return request;
        }

        synchronized int count() {
            return requests.size();
        }

        synchronized void answer(int index, String token) {
            requests.get(index).complete(new IssuedToken(token, LIFETIME));
        }

        synchronized void fail(int index) {
            requests.get(index).completeExceptionally(new IOException("connection refused"));
        }
    }

    private final ManualClock clock = new ManualClock();
    private final ScriptedEndpoint endpoint = new ScriptedEndpoint();

    private ClientCredentialsTokens startedWith(String firstToken) {
        ClientCredentialsTokens tokens = new ClientCredentialsTokens(endpoint, clock);
        CompletableFuture<ClientCredentialsTokens> started = CompletableFuture.supplyAsync(tokens::start);
        while (endpoint.count() == 0) {
            Thread.onSpinWait();
        }
        endpoint.answer(0, firstToken);
        return started.join();
    }

    @Test
    void usesOneTokenUntilThreeQuartersOfItsLifetimeHavePassed() {
        ClientCredentialsTokens tokens = startedWith("first");
        clock.advance(LIFETIME.multipliedBy(3).dividedBy(4).minusSeconds(1));
        for (int i = 0; i < 1000; i++) {
            assertThat(tokens.authorizationHeader()).isEqualTo("Bearer first");
        }
        assertThat(endpoint.count()).isEqualTo(1);
    }

    @Test
    void renewsInTheBackgroundWhileRequestsKeepTheCurrentToken() {
        ClientCredentialsTokens tokens = startedWith("first");
        clock.advance(LIFETIME.multipliedBy(3).dividedBy(4));
        assertThat(tokens.authorizationHeader()).isEqualTo("Bearer first");
        assertThat(endpoint.count()).isEqualTo(2);

        endpoint.answer(1, "second");
        assertThat(tokens.authorizationHeader()).isEqualTo("Bearer second");
        assertThat(tokens.renewAt()).isEqualTo(clock.instant().plus(LIFETIME.multipliedBy(3).dividedBy(4)));
    }

    @Test
    void manyRequestsNoticingTheAgeStartOnlyOneRenewal() {
        ClientCredentialsTokens tokens = startedWith("first");
        clock.advance(Duration.ofMinutes(12));
        for (int i = 0; i < 100; i++) {
            tokens.authorizationHeader();
        }
        assertThat(endpoint.count()).isEqualTo(2);
    }

    @Test
    void aRequestWaitsForTheRenewalOnceTheTokenHasExpired() throws Exception {
        ClientCredentialsTokens tokens = startedWith("first");
        clock.advance(LIFETIME.plusSeconds(1));
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try {
            Future<String> header = caller.submit(tokens::authorizationHeader);
            while (endpoint.count() < 2) {
                Thread.onSpinWait();
            }
            assertThat(header.isDone()).isFalse();
            endpoint.answer(1, "second");
            assertThat(header.get(5, TimeUnit.SECONDS)).isEqualTo("Bearer second");
        } finally {
            caller.shutdownNow();
        }
    }

    @Test
    void aFailedRenewalIsRetriedByTheNextRequest() {
        ClientCredentialsTokens tokens = startedWith("first");
        clock.advance(Duration.ofMinutes(12));
        tokens.authorizationHeader();
        endpoint.fail(1);
        assertThat(tokens.authorizationHeader()).isEqualTo("Bearer first");
        assertThat(endpoint.count()).isEqualTo(3);
        endpoint.answer(2, "third");
        assertThat(tokens.authorizationHeader()).isEqualTo("Bearer third");
    }

    @Test
    void anExpiredTokenWhoseRenewalFailsFailsTheRequestRatherThanSendingIt() {
        ClientCredentialsTokens tokens = startedWith("first");
        clock.advance(LIFETIME.plusSeconds(1));
        CompletableFuture<String> header = CompletableFuture.supplyAsync(tokens::authorizationHeader);
        while (endpoint.count() < 2) {
            Thread.onSpinWait();
        }
        endpoint.fail(1);
        assertThatThrownBy(header::join).isInstanceOf(CompletionException.class).hasRootCauseInstanceOf(IOException.class);
    }
}
