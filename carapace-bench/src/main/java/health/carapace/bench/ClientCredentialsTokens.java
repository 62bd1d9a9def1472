package health.carapace.bench;

import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Bearer tokens from an OAuth2 client-credentials grant, renewed before they expire.
 *
 * <p>A token is renewed once three quarters of its lifetime have passed. Renewal runs in the
 * background while requests keep using the current token, and only one renewal is in flight
 * at a time, however many requests notice the age. Only when a token has actually expired
 * does a request wait for the new one (a bench run that sent expired tokens would measure
 * 401s). A failed renewal is retried by the next request that needs it.
 */
final class ClientCredentialsTokens implements AccessTokens {

    /** A token in use, with when to renew it and when it stops working. */
    private record Current(String header, Instant renewAt, Instant expiresAt) {}

    private final Supplier<CompletableFuture<IssuedToken>> tokenEndpoint;
    private final Clock clock;
    private volatile Current current;
    private final AtomicReference<CompletableFuture<Current>> renewal = new AtomicReference<>();

    /**
     * @param tokenEndpoint asks the authorization server for a new token; must not share the
     *     load's HTTP executor, because a request may block on it when the token has expired
     */
    ClientCredentialsTokens(Supplier<CompletableFuture<IssuedToken>> tokenEndpoint, Clock clock) {
        this.tokenEndpoint = tokenEndpoint;
        this.clock = clock;
    }

    /** Fetches the first token; fails fast (wrong secret, wrong URL) before any load is sent. */
    ClientCredentialsTokens start() {
        current = renew().join();
        return this;
    }

    @Override
    public String authorizationHeader() {
        Current token = current;
        if (token == null) {
            throw new IllegalStateException("start() has not fetched a token yet");
        }
        Instant now = clock.instant();
        if (now.isBefore(token.renewAt())) {
            return token.header();
        }
        CompletableFuture<Current> renewing = renew();
        if (now.isBefore(token.expiresAt())) {
            return token.header();
        }
        return renewing.join().header();
    }

    /** Starts a renewal unless one is already in flight; returns the one in flight. */
    private CompletableFuture<Current> renew() {
        CompletableFuture<Current> started = new CompletableFuture<>();
        CompletableFuture<Current> inFlight = renewal.compareAndExchange(null, started);
        if (inFlight != null) {
            return inFlight;
        }
        Instant requestedAt = clock.instant();
        CompletableFuture<IssuedToken> request;
        try {
            request = tokenEndpoint.get();
        } catch (RuntimeException e) {
            request = CompletableFuture.failedFuture(e);
        }
        request.whenComplete((issued, failure) -> {
            // Clear first: a failure leaves the next caller free to try again.
            renewal.set(null);
            if (failure != null) {
                started.completeExceptionally(failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure);
                return;
            }
            // Lifetimes count from when we asked, not when the answer arrived: errs on the early side.
            Instant expiresAt = requestedAt.plus(issued.lifetime());
            Instant renewAt = requestedAt.plus(issued.lifetime().multipliedBy(3).dividedBy(4));
            Current next = new Current("Bearer " + issued.accessToken(), renewAt, expiresAt);
            current = next;
            started.complete(next);
        });
        return started;
    }

    /** When the token in use should be renewed. */
    Instant renewAt() {
        return current.renewAt();
    }
}
