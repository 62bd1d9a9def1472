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
 * partition, and every node of a cluster tries. The node waits {@link Recovery#refusedLoginRetry()}
 * (doubling) and, after {@link Recovery#refusedLoginAttempts()} refused logins in a row, tries no
 * more until it is restarted. The readiness probe goes through the same gate, so a node without traffic
 * tries no more often.
 */
final class HsmSession {

    private static final Logger log = LoggerFactory.getLogger(HsmSession.class);

    /** The wait before the first attempt to open the token again after a transient failure. */
    static final Duration FIRST_RETRY = Duration.ofSeconds(1);

    /**
     * How the node opens the token again.
     *
     * @param maxInterval the longest wait between two attempts after transient failures (the doubling's cap)
     * @param refusedLoginRetry the wait after the first login refused for the PIN (doubled after each further one)
     * @param refusedLoginAttempts refused logins in a row after which the node tries no more until restarted
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
    private final ReentrantLock reopening = new ReentrantLock();
    private final Deque<Provider> keptProviders = new ArrayDeque<>();
    private final AtomicLong loginAttempts = new AtomicLong();
    /** The probe's ciphertext per key label (the key object, and so the ciphertext, outlives providers). */
    private final ConcurrentMap<String, byte[]> probes = new ConcurrentHashMap<>();
    private volatile Generation generation;
    private volatile long nextAttemptNanos;
    private volatile long lostAtNanos;
    private volatile boolean loginsStopped;
    /** The label the probe uses: the active KEK version's ({@link #probeActiveKey}). */
    private volatile Supplier<String> activeLabel;
    private volatile String lastActiveLabel;
    // guarded by reopening
    private int transientFailures;
    private int refusedLogins;

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
            Pkcs11Kek.Token token) {
        this.library = library;
        this.slotListIndex = slotListIndex;
        this.pin = pin == null ? null : pin.clone();
        this.firstLabel = firstLabel;
        this.recovery = recovery;
        this.lastActiveLabel = firstLabel;
        this.activeLabel = () -> firstLabel;
        this.generation = new Generation(token, new ConcurrentHashMap<>());
    }

    /** Logs into the token; a refusal here stops the start, with the reason ({@link Pkcs11Kek}). */
    static HsmSession open(String library, int slotListIndex, char[] pin, String firstLabel, Recovery recovery) {
        return new HsmSession(library, slotListIndex, pin, firstLabel, recovery,
                Pkcs11Kek.Token.login(library, slotListIndex, pin, firstLabel));
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
            if (answers(current, probeLabel())) {
                return true;
            }
            lost(current, null);
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
            nextAttemptNanos = lostAtNanos; // the next use may try at once
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
        return !loginsStopped && System.nanoTime() - nextAttemptNanos >= 0;
    }

    /** A new provider, logged in, whose key answers; null (and the next attempt scheduled) while it fails. */
    private Generation reopen() {
        Provider provider;
        try {
            provider = Pkcs11Kek.configure(library, slotListIndex);
        } catch (RuntimeException e) {
            return failedTransiently(e);
        }
        keep(provider); // whatever happens below, its sessions are never closed by a cleaner while kept
        Pkcs11Kek.Token token;
        loginAttempts.incrementAndGet();
        try {
            token = Pkcs11Kek.Token.login(provider, pin, firstLabel);
        } catch (RuntimeException e) {
            String refused = Pkcs11Failure.refusedLogin(e);
            return refused != null ? refused(refused) : failedTransiently(e);
        }
        refusedLogins = 0; // the token took the PIN: its own count of failures starts again too
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
        long wait = Math.min(recovery.maxInterval().toNanos(),
                FIRST_RETRY.toNanos() << Math.min(transientFailures - 1, 20));
        // jitter downwards only, so that nodes spread out and the cap (the recovery time) still holds
        wait -= (long) (wait * 0.25 * ThreadLocalRandom.current().nextDouble());
        nextAttemptNanos = System.nanoTime() + wait;
        log.debug("The HSM token could not be opened again yet ({}); next attempt in {} ms",
                LogSafe.of(e == null ? "the key does not answer" : Pkcs11Failure.reason(e)), wait / 1_000_000);
        return null;
    }

    private Generation refused(String code) {
        refusedLogins++;
        if (refusedLogins >= recovery.refusedLoginAttempts()) {
            loginsStopped = true;
            log.error("The HSM token refused the login ({}), {} times in a row: this node tries no further login"
                    + " until it is restarted, so that it cannot lock the token's PIN. Check carapace.kek.pkcs11.pin"
                    + " against the token; until then no key it wraps can be opened and the node is not ready",
                    LogSafe.of(code), refusedLogins);
        } else {
            Duration wait = recovery.refusedLoginRetry().multipliedBy(1L << Math.min(refusedLogins - 1, 20));
            nextAttemptNanos = System.nanoTime() + wait.toNanos();
            log.error("The HSM token refused the login ({}): the next login is tried in {} s ({} of at most {}"
                    + " refused logins before this node stops trying). Check carapace.kek.pkcs11.pin against the token",
                    LogSafe.of(code), wait.toSeconds(), refusedLogins, recovery.refusedLoginAttempts());
        }
        return null;
    }

    /** Whether the key under {@code label} answers through {@code generation}: the probe's plaintext, exactly. */
    private boolean answers(Generation generation, String label) {
        try {
            Pkcs11Kek key = generation.key(label);
            byte[] probe = probes.get(label);
            if (probe == null) {
                // one GCM encryption per KEK version and process (not in the usage counters: negligible)
                probe = key.encrypt(PROBE_PLAINTEXT, PROBE_CONTEXT);
                probes.putIfAbsent(label, probe);
            }
            return Arrays.equals(key.decrypt(probe, PROBE_CONTEXT), PROBE_PLAINTEXT);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
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
