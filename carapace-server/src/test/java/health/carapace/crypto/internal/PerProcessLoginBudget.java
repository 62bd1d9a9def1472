package health.carapace.crypto.internal;

import java.time.Duration;

/**
 * The rules of {@link HsmLoginBudget} kept in this process only: for tests of one session alone, where
 * no keyring is needed. Production always counts in the keyring (CryptoConfiguration).
 */
final class PerProcessLoginBudget implements LoginBudget {

    private final int attempts;
    private final Duration retry;
    private int refused;
    private long lastAttemptNanos;

    PerProcessLoginBudget(HsmSession.Recovery recovery) {
        this.attempts = recovery.refusedLoginAttempts();
        this.retry = recovery.refusedLoginRetry();
    }

    @Override
    public synchronized Decision reserve() {
        if (refused >= attempts) {
            return Decision.EXHAUSTED;
        }
        if (refused > 0 && System.nanoTime() - lastAttemptNanos
                < retry.toNanos() * (1L << Math.min(refused - 1, 20))) {
            return Decision.WAIT;
        }
        refused++;
        lastAttemptNanos = System.nanoTime();
        return Decision.ALLOWED;
    }

    @Override
    public synchronized int refused(String code) {
        return refused;
    }

    @Override
    public synchronized void released() {
        refused = Math.max(refused - 1, 0);
    }

    @Override
    public synchronized void succeeded() {
        refused = 0;
    }

    @Override
    public int attempts() {
        return attempts;
    }
}
