package health.carapace.crypto.internal;

import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.platform.logging.LogSafe;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's way into the HSM: a logged-in SunPKCS11 provider for the token, replaced by a fresh one
 * when the HSM loses its sessions (issue 21 item 3, ADR 0041, ADR 0045).
 *
 * <p>Why it exists: a network HSM that restarts or fails over, a device reset, or a token that logs the
 * application out ends every PKCS#11 session of the application and every object handle it held.
 * SunPKCS11 does not notice on a non-removable slot: it keeps handing out its pooled dead sessions and
 * the key objects' dead handles, and every later wrap and unwrap fails until the JVM restarts. Here a
 * failure that comes from the token and is not an answer about the data ({@link Pkcs11Failure}) marks
 * the provider lost; the next use, once the back-off allows, configures a new provider (the JDK shares
 * the already initialised library), logs in and looks the keys up again by label. Until that works
 * every use fails at once with {@link KeyUnavailableException} (answered 503): fail closed, and no
 * request thread waits on a token that does not answer — one thread at a time tries, the others are
 * refused.
 *
 * <p>How often it tries (ADR 0045): after a transient failure (no session, a device or network error,
 * another user logged in, a key that does not answer) again after {@link #FIRST_RETRY}, doubling up to
 * {@link Recovery#maxInterval()}, so the node is back within that interval of the token's return. A
 * login the token refuses because of the PIN ({@code CKR_PIN_INCORRECT}, {@code _LOCKED},
 * {@code _EXPIRED}) is not retried like that: each further try counts towards the HSM's lockout of the
 * partition, and the HSM counts every node, restart and CLI command of the installation. So every login,
 * the first at start included, is reserved first against the installation's {@link LoginBudget} (kept in
 * the keyring, ADR 0049): after a refusal the next login of any node waits {@link Recovery#refusedLoginRetry()}
 * (doubling), and after {@link Recovery#refusedLoginAttempts()} refused logins in a row no node or command
 * of the installation sends one until an operator resets the budget ({@code ./carapace keys
 * reset-hsm-logins}); a node notices the reset by itself. If the budget cannot be read, no login is sent.
 * The readiness probe goes through the same gate, so a node without traffic tries no more often.
 */
final class HsmSession {

    /** How long a start waits for another login of the installation under way to settle. */
    static final Duration START_WAIT = Duration.ofSeconds(10);
    private static final Duration START_WAIT_POLL = Duration.ofMillis(250);
    private static final Logger log = LoggerFactory.getLogger(HsmSession.class);

    /** The wait before the first attempt to open the token again after a transient failure. */
    static final Duration FIRST_RETRY = Duration.ofSeconds(1);

    /**
     * How the node opens the token again.
     *
     * @param maxInterval the longest wait between two attempts after transient failures (the doubling's cap)
     * @param refusedLoginRetry the wait after the first login refused for the PIN (doubled after each further one)
     * @param refusedLoginAttempts refused logins in a row in the installation after which none is sent until reset (ADR 0049)
     */
    record Recovery(Duration maxInterval, Duration refusedLoginRetry, int refusedLoginAttempts) {

        static final Recovery DEFAULT = new Recovery(Duration.ofSeconds(5), Duration.ofMinutes(15), 3);

        Recovery {
            if (maxInterval.compareTo(FIRST_RETRY) < 0 || refusedLoginRetry.compareTo(FIRST_RETRY) < 0
                    || refusedLoginAttempts < 1) {
                throw new IllegalArgumentException("carapace.kek.pkcs11.reopen-max-interval and refused-login-retry"
                        + " must be at least 1 s, refused-login-attempts at least 1");
            }
        }
    }

    /**
     * The probe: a known plaintext, sealed once per KEK version and process by the token, and opened again
     * by every probe — the token must hand back exactly this. (A ciphertext that cannot authenticate would
     * cost no encryption, but SoftHSM2 answers its bad tag with {@code CKR_GENERAL_ERROR}, which is also
     * what a broken token says: only a correct answer proves the token works. ADR 0045.)
     */
    private static final byte[] PROBE_PLAINTEXT = "carapace: the HSM answers".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PROBE_CONTEXT = "carapace/hsm-probe".getBytes(StandardCharsets.US_ASCII);

    /** The answer to a request refused while the token is away: names no key, no data. */
    static final String UNAVAILABLE = "The HSM session is unavailable, so no key it wraps can be opened until it returns";

    /**
     * How many providers no longer in use stay referenced: lost ones, and fresh ones whose login or probe
     * failed. A provider that becomes unreachable has the JDK close its sessions by handle (a cleaner per
     * session); an HSM that numbers the new sessions like the old ones would then see the current
     * provider's sessions closed. Keeping them referenced avoids that (with the back-off's cap of a few
     * seconds, this covers several minutes of attempts).
     */
    private static final int KEPT_PROVIDERS = 64;

    private final String library;
    private final int slotListIndex;
    private final char[] pin;
    private final String firstLabel;
    private final Recovery recovery;
    private final LoginBudget budget;
    private final ReentrantLock reopening = new ReentrantLock();
    private final Deque<Provider> keptProviders = new ArrayDeque<>();
    private final AtomicLong loginAttempts = new AtomicLong();
    /** Providers built to open the token again (tests: one per login sent, none while the budget says no). */
    private final AtomicLong providersBuilt = new AtomicLong();
    /** The probe's ciphertext per key label (the key object, and so the ciphertext, outlives providers). */
    private final ConcurrentMap<String, byte[]> probes = new ConcurrentHashMap<>();
    private volatile Generation generation;
    private volatile long nextAttemptNanos;
    private volatile long lostAtNanos;
    /** When the current provider was logged in (at start, or by a reopening). */
    private volatile long openedAtNanos = System.nanoTime();
    /** Sessions lost in a row, each soon after it was opened (guarded by this): the back-off's exponent. */
    private int quickLosses;
    /** The label the probe uses: the active KEK version's ({@link #probeActiveKey}). */
    private volatile Supplier<String> activeLabel;
    private volatile String lastActiveLabel;
    // guarded by reopening
    private int transientFailures;
    /** What the budget last said when it refused a login (logged once per change, not per check). */
    private LoginBudget.Decision lastRefusal;

    /** One logged-in provider and the key objects found through it. */
    private record Generation(Pkcs11Kek.Token token, ConcurrentMap<String, Pkcs11Kek> keys) {

        Pkcs11Kek key(String label) {
            Pkcs11Kek found = keys.get(label);
            if (found == null) {
                found = token.find(label);
                if (found == null) {
                    throw new KeyUnavailableException("The keyring names the KEK pkcs11/" + label
                            + " but the HSM token has no key with that label: keys wrapped by it cannot be read");
                }
                keys.putIfAbsent(label, found);
            }
            return found;
        }
    }

    @FunctionalInterface
    interface TokenCall<T> {
        T apply(Pkcs11Kek key) throws GeneralSecurityException;
    }

    private HsmSession(String library, int slotListIndex, char[] pin, String firstLabel, Recovery recovery,
            LoginBudget budget, Pkcs11Kek.Token token) {
        this.library = library;
        this.slotListIndex = slotListIndex;
        this.pin = pin == null ? null : pin.clone();
        this.firstLabel = firstLabel;
        this.recovery = recovery;
        this.budget = budget;
        this.lastActiveLabel = firstLabel;
        this.activeLabel = () -> firstLabel;
        this.generation = new Generation(token, new ConcurrentHashMap<>());
    }

    /**
     * Logs into the token, if the installation's {@code budget} allows a login now; a refusal (by the
     * budget or the token) stops the start, with the reason ({@link Pkcs11Kek}). A start is a login like
     * any other: a node restarted in a loop, or a CLI command run again, must not bypass the budget.
     */
    static HsmSession open(String library, int slotListIndex, char[] pin, String firstLabel, Recovery recovery,
            LoginBudget budget) {
        LoginBudget.Decision decision = budget.reserve();
        // WAIT is usually another node's login still under way (it counts until it settles, well under a
        // second): a start waits briefly for it instead of failing because two nodes started together
        // (s9 review M-2). A wait for a refused login's back-off outlasts this and still fails the start.
        long waitUntil = System.nanoTime() + START_WAIT.toNanos();
        while (decision == LoginBudget.Decision.WAIT && System.nanoTime() < waitUntil) {
            try {
                Thread.sleep(START_WAIT_POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            decision = budget.reserve();
        }
        if (decision != LoginBudget.Decision.ALLOWED) {
            throw new KeyUnavailableException(notTried(decision, budget.attempts()));
        }
        Pkcs11Kek.Token token;
        try {
            token = Pkcs11Kek.Token.login(library, slotListIndex, pin, firstLabel);
        } catch (RuntimeException e) {
            String refused = Pkcs11Failure.refusedLogin(e);
            if (refused != null) {
                int counted = budget.refused(refused);
                log.error("The HSM token refused the login at start ({}): {} of at most {} refused logins of this"
                        + " installation (every node and command counts). Check carapace.kek.pkcs11.pin against the"
                        + " token", LogSafe.of(refused), counted < 0 ? "?" : counted, budget.attempts());
            } else {
                budget.released();
            }
            throw e;
        }
        budget.succeeded();
        return new HsmSession(library, slotListIndex, pin, firstLabel, recovery, budget, token);
    }

    /** Why no login was sent: for the start's refusal and the log. Names no PIN. */
    private static String notTried(LoginBudget.Decision decision, int attempts) {
        return switch (decision) {
            case EXHAUSTED -> "No HSM login was tried: this installation's token refused " + attempts + " logins in a"
                    + " row (every node and command counts), so none is sent until an operator checks"
                    + " carapace.kek.pkcs11.pin against the token and runs ./carapace keys reset-hsm-logins (ADR 0049)";
            case WAIT -> "No HSM login was tried: the token refused one recently (or another node's login is under"
                    + " way), and the next is due only after carapace.kek.pkcs11.refused-login-retry, doubling (ADR"
                    + " 0049); after fixing the PIN, ./carapace keys reset-hsm-logins allows one at once";
            case UNREACHABLE -> "No HSM login was tried: the keyring, which keeps the installation's count of refused"
                    + " logins, cannot be read (ADR 0049)";
            case ALLOWED -> throw new IllegalArgumentException("allowed");
        };
    }

    /** The configured label: version 1 of the KEK. */
    String firstLabel() {
        return firstLabel;
    }

    /**
     * Where the probe finds the active KEK version's label (the keyring's, once the ring exists). The
     * probe must use a key the token is expected to hold: a version deleted from the HSM after it was
     * retired would otherwise keep a node "lost" for ever.
     */
    void probeActiveKey(Supplier<String> label) {
        this.activeLabel = label;
    }

    /** Logins tried since the start to open the token again (the first login at start not counted). */
    long loginAttempts() {
        return loginAttempts.get();
    }

    /** Providers built since the start to open the token again (the start's own not counted). */
    long providersBuilt() {
        return providersBuilt.get();
    }

    /** The KEK under {@code label}, or null when the token has none. */
    Kek find(String label) {
        Generation current = current();
        try {
            Pkcs11Kek found = current.token().find(label);
            if (found == null) {
                return null;
            }
            current.keys().putIfAbsent(label, found);
            return new Kek(label);
        } catch (RuntimeException e) {
            throw unavailableIfLost(current, e);
        }
    }

    /** Generates a key under {@code label} in the token, or adopts the one already there. */
    Kek create(String label) {
        Generation current = current();
        try {
            if (current.token().find(label) == null) {
                current.token().create(label);
            }
            return new Kek(label);
        } catch (RuntimeException e) {
            throw unavailableIfLost(current, e);
        }
    }

    /** Runs {@code work} with the current provider's key under {@code label}; see the class comment for failures. */
    <T> T use(String label, TokenCall<T> work) throws GeneralSecurityException {
        Generation current = current();
        try {
            return work.apply(current.key(label));
        } catch (GeneralSecurityException e) {
            if (Pkcs11Failure.fromTheToken(e)) {
                if (Pkcs11Failure.ambiguousBadTag(e) && answers(current, label)) {
                    throw e; // the token still opens what it sealed: this was its verdict on the data
                }
                lost(current, e);
                throw new KeyUnavailableException(UNAVAILABLE, e);
            }
            throw e;
        } catch (RuntimeException e) {
            throw unavailableIfLost(current, e);
        }
    }

    /**
     * For readiness: the token answers through the current provider about the active KEK version
     * (opened again here when it was lost and the back-off allows an attempt). Never throws.
     */
    boolean reachable() {
        try {
            Generation current = current();
            Probe probe = ask(current, probeLabel());
            if (probe.answered()) {
                return true;
            }
            if (probe.sessionFailed()) {
                lost(current, probe.failure());
            }
            // Otherwise (review L3) not a failure of the session — the active key's label is not in the token,
            // or the keyring's view of it is not to be had — so the session is kept: a new one would not
            // answer either, and replacing it would cost a login.
            return false;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private String probeLabel() {
        try {
            String label = activeLabel.get();
            if (label != null) {
                lastActiveLabel = label;
            }
        } catch (RuntimeException keyringAway) {
            // the keyring database may be away too: the last active label known is still the one to probe
        }
        return lastActiveLabel;
    }

    private RuntimeException unavailableIfLost(Generation current, RuntimeException e) {
        if (!Pkcs11Failure.fromTheToken(e)) {
            return e;
        }
        lost(current, e);
        return new KeyUnavailableException(UNAVAILABLE, e);
    }

    private void lost(Generation current, Throwable cause) {
        synchronized (this) {
            if (generation != current) {
                return; // another thread saw it first, or a new provider already replaced it
            }
            generation = null;
            lostAtNanos = System.nanoTime();
            if (lostAtNanos - openedAtNanos < recovery.maxInterval().toNanos()) {
                // Lost soon after it was opened (a token that flaps, or takes logins and drops sessions):
                // not "at once" again, or each loss would cost a login with no back-off (review L2).
                quickLosses++;
                nextAttemptNanos = lostAtNanos + backOff(quickLosses);
            } else {
                quickLosses = 0;
                nextAttemptNanos = lostAtNanos; // a session that served a while: the next use may try at once
            }
            keep(current.token().provider());
        }
        // The PKCS#11 return value's name (CKR_...) is the provider's own text, never input.
        log.warn("The HSM session was lost ({}); requests that need a key unwrapped are refused until the token"
                + " is opened again", LogSafe.of(cause == null ? "no answer to the readiness probe"
                        : Pkcs11Failure.reason(cause)));
    }

    private synchronized void keep(Provider provider) {
        keptProviders.addLast(provider);
        while (keptProviders.size() > KEPT_PROVIDERS) {
            keptProviders.removeFirst();
        }
    }

    /**
     * The current provider; when lost, one thread opens a new one if the back-off allows (holding
     * {@code reopening}, which nobody waits for), the rest are refused at once.
     */
    private Generation current() {
        Generation current = generation;
        if (current != null) {
            return current;
        }
        if (attemptDue() && reopening.tryLock()) {
            try {
                current = generation;
                if (current == null && attemptDue()) {
                    current = reopen();
                    if (current != null) {
                        synchronized (this) {
                            generation = current;
                            openedAtNanos = System.nanoTime();
                        }
                        log.info("The HSM session is open again, {} ms after it was lost",
                                Duration.ofNanos(System.nanoTime() - lostAtNanos).toMillis());
                    }
                }
            } finally {
                reopening.unlock();
            }
        }
        if (current == null) {
            throw new KeyUnavailableException(UNAVAILABLE);
        }
        return current;
    }

    private boolean attemptDue() {
        return System.nanoTime() - nextAttemptNanos >= 0;
    }

    /** A new provider, logged in, whose key answers; null (and the next attempt scheduled) while it fails. */
    private Generation reopen() {
        // The budget first, the provider only for a login that is sent (s9 review M-1): while the budget
        // says no (for hours, if exhausted) a provider built at each check would open sessions for nothing,
        // and each dropped one closes its sessions by number.
        LoginBudget.Decision decision = budget.reserve();
        if (decision != LoginBudget.Decision.ALLOWED) {
            return notTried(decision);
        }
        Provider provider;
        try {
            providersBuilt.incrementAndGet();
            provider = Pkcs11Kek.configure(library, slotListIndex);
        } catch (RuntimeException e) {
            budget.released(); // no login was sent: the reservation goes back
            return failedTransiently(e);
        }
        keep(provider); // whatever happens below, its sessions are never closed by a cleaner while kept
        lastRefusal = null;
        Pkcs11Kek.Token token;
        loginAttempts.incrementAndGet();
        try {
            token = Pkcs11Kek.Token.login(provider, pin, firstLabel);
        } catch (RuntimeException e) {
            String refused = Pkcs11Failure.refusedLogin(e);
            if (refused != null) {
                return refused(refused);
            }
            budget.released();
            return failedTransiently(e);
        }
        budget.succeeded(); // the token took the PIN: its own count of failures starts again, and so does ours
        Generation fresh = new Generation(token, new ConcurrentHashMap<>());
        // Logged in is not enough: the key must be found and answer through the new sessions.
        if (!answers(fresh, probeLabel())) {
            return failedTransiently(null);
        }
        transientFailures = 0;
        return fresh;
    }

    private Generation failedTransiently(Throwable e) {
        transientFailures++;
        long wait = backOff(transientFailures);
        nextAttemptNanos = System.nanoTime() + wait;
        log.debug("The HSM token could not be opened again yet ({}); next attempt in {} ms",
                LogSafe.of(e == null ? "the key does not answer" : Pkcs11Failure.reason(e)), wait / 1_000_000);
        return null;
    }

    /** The wait before the {@code n}th attempt in a row (n ≥ 1): 1 s doubling to the cap, jittered. */
    private long backOff(int n) {
        long wait = Math.min(recovery.maxInterval().toNanos(), FIRST_RETRY.toNanos() << Math.min(n - 1, 20));
        // jitter downwards only, so that nodes spread out and the cap (the recovery time) still holds
        return wait - (long) (wait * 0.25 * ThreadLocalRandom.current().nextDouble());
    }

    private Generation refused(String code) {
        int counted = budget.refused(code);
        if (counted < 0) {
            // counted in the keyring already (the reservation); only the reading failed: wait as after a first
            nextAttemptNanos = System.nanoTime() + recovery.refusedLoginRetry().toNanos();
            log.error("The HSM token refused the login ({}); the installation's count of refused logins cannot be"
                    + " read now. Check carapace.kek.pkcs11.pin against the token", LogSafe.of(code));
        } else if (counted >= budget.attempts()) {
            lastRefusal = LoginBudget.Decision.EXHAUSTED; // said here; not again at each check of the budget
            // the budget is checked again (a query, no login) at the transient cadence: a reset is noticed
            nextAttemptNanos = System.nanoTime() + recovery.maxInterval().toNanos();
            log.error("The HSM token refused the login ({}): {} refused logins in a row in this installation (every"
                    + " node and command counts), the most allowed, so that the token's PIN is not locked: no node"
                    + " sends another until an operator checks carapace.kek.pkcs11.pin against the token and runs"
                    + " ./carapace keys reset-hsm-logins. Until then no key it wraps can be opened and the node is"
                    + " not ready", LogSafe.of(code), counted);
        } else {
            Duration wait = recovery.refusedLoginRetry().multipliedBy(1L << Math.min(counted - 1, 20));
            nextAttemptNanos = System.nanoTime() + wait.toNanos();
            log.error("The HSM token refused the login ({}): the next login of any node is due in {} s ({} of at"
                    + " most {} refused logins of this installation, every node and command counted). Check"
                    + " carapace.kek.pkcs11.pin against the token",
                    LogSafe.of(code), wait.toSeconds(), counted, budget.attempts());
        }
        return null;
    }

    /** The budget allowed no login now: asked again later, at the transient cadence (a query, not a login). */
    private Generation notTried(LoginBudget.Decision decision) {
        if (decision != lastRefusal) {
            lastRefusal = decision;
            String why = notTried(decision, budget.attempts());
            switch (decision) {
                case EXHAUSTED -> log.error(why);
                case UNREACHABLE -> log.warn(why);
                // another node's refusal, or its login under way during an outage: routine, not news
                default -> log.debug(why);
            }
        }
        return failedTransiently(null);
    }

    /** Whether the key under {@code label} answers through {@code generation}: the probe's plaintext, exactly. */
    private boolean answers(Generation generation, String label) {
        return ask(generation, label).answered();
    }

    /**
     * The probe's outcome: answered; or not, with whether the session is at fault (a wrong plaintext — the
     * token is broken — or a failure {@link Pkcs11Failure#fromTheToken} gives to the token), and the failure.
     */
    private record Probe(boolean answered, boolean sessionFailed, Throwable failure) {}

    private Probe ask(Generation generation, String label) {
        try {
            Pkcs11Kek key = generation.key(label);
            byte[] probe = probes.get(label);
            if (probe == null) {
                // one GCM encryption per KEK version and process (not in the usage counters: negligible)
                probe = key.encrypt(PROBE_PLAINTEXT, PROBE_CONTEXT);
                probes.putIfAbsent(label, probe);
            }
            return Arrays.equals(key.decrypt(probe, PROBE_CONTEXT), PROBE_PLAINTEXT) ? new Probe(true, false, null)
                    : new Probe(false, true, null);
        } catch (GeneralSecurityException | RuntimeException e) {
            return new Probe(false, Pkcs11Failure.fromTheToken(e), e);
        }
    }


    /** One KEK version in the token, stable across provider replacements (what {@link KekRing} caches). */
    final class Kek implements KeyEncryptionKey {

        private final String label;

        private Kek(String label) {
            this.label = label;
        }

        @Override
        public String id() {
            return "pkcs11/" + label;
        }

        @Override
        public byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
            return use(label, key -> key.encrypt(plaintext, associatedData));
        }

        @Override
        public byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException {
            return use(label, key -> key.decrypt(ciphertext, associatedData));
        }

        /** The key object as the current provider holds it (for the algorithm inventory: its size). */
        Pkcs11Kek current() {
            try {
                return use(label, key -> key);
            } catch (GeneralSecurityException e) {
                throw new KeyUnavailableException(UNAVAILABLE, e);
            }
        }
    }
}
