package health.carapace.crypto.internal;

import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyUnavailableException;
import java.security.GeneralSecurityException;
import java.security.ProviderException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.ReentrantLock;
import javax.crypto.AEADBadTagException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's way into the HSM: a logged-in SunPKCS11 provider for the token, replaced by a fresh one
 * when the HSM loses its sessions (issue 21 item 3, ADR 0041).
 *
 * <p>Why it exists: a network HSM that restarts or fails over, a device reset, or a token that logs the
 * application out ends every PKCS#11 session of the application and every object handle it held.
 * SunPKCS11 does not notice on a non-removable slot: it keeps handing out its pooled dead sessions and
 * the key objects' dead handles, and every later wrap and unwrap fails until the JVM restarts. Here a
 * failure that comes from the token and is not an answer about the data (a bad tag) marks the provider
 * lost; the next use, at most once per {@link #RETRY}, configures a new provider (the JDK shares the
 * already initialised library), logs in and looks the keys up again by label. Until that works every
 * use fails at once with {@link KeyUnavailableException} (answered 503): fail closed, and no request
 * thread waits on a token that does not answer — one thread at a time tries, the others are refused.
 */
final class HsmSession {

    private static final Logger log = LoggerFactory.getLogger(HsmSession.class);

    /** The least time between two attempts to open the token again (the target: back within 10 s). */
    static final Duration RETRY = Duration.ofSeconds(1);

    /**
     * A GCM ciphertext that cannot authenticate (format byte, zero nonce, zero bytes and tag): decrypting it makes
     * the token open a session, use the key object and answer "bad tag" — proof that it answers, without
     * spending an encryption of the KEK's GCM budget.
     */
    private static final byte[] PROBE = probeCiphertext();

    /** The answer to a request refused while the token is away: names no key, no data. */
    static final String UNAVAILABLE = "The HSM session is unavailable, so no key it wraps can be opened until it returns";

    /**
     * How many lost providers stay referenced. A provider that becomes unreachable has the JDK close its
     * sessions by handle (a cleaner per session); an HSM that numbers the new sessions like the old ones
     * would then see the new provider's sessions closed. Keeping the few lost ones referenced avoids that.
     */
    private static final int KEPT_LOST_PROVIDERS = 16;

    private final String library;
    private final int slotListIndex;
    private final char[] pin;
    private final String firstLabel;
    private final ReentrantLock reopening = new ReentrantLock();
    private final Deque<Generation> lostGenerations = new ArrayDeque<>();
    private volatile Generation generation;
    private volatile long lastAttemptNanos;
    private volatile long lostAtNanos;
    private volatile String lastUsedLabel;

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

    private HsmSession(String library, int slotListIndex, char[] pin, String firstLabel, Pkcs11Kek.Token token) {
        this.library = library;
        this.slotListIndex = slotListIndex;
        this.pin = pin == null ? null : pin.clone();
        this.firstLabel = firstLabel;
        this.lastUsedLabel = firstLabel;
        this.generation = new Generation(token, new ConcurrentHashMap<>());
    }

    /** Logs into the token; a refusal here stops the start, with the reason ({@link Pkcs11Kek}). */
    static HsmSession open(String library, int slotListIndex, char[] pin, String firstLabel) {
        return new HsmSession(library, slotListIndex, pin, firstLabel,
                Pkcs11Kek.Token.login(library, slotListIndex, pin, firstLabel));
    }

    /** The configured label: version 1 of the KEK. */
    String firstLabel() {
        return firstLabel;
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
        lastUsedLabel = label;
        Generation current = current();
        try {
            return work.apply(current.key(label));
        } catch (GeneralSecurityException e) {
            if (fromTheToken(e)) {
                lost(current, e);
                throw new KeyUnavailableException(UNAVAILABLE, e);
            }
            throw e;
        } catch (RuntimeException e) {
            throw unavailableIfLost(current, e);
        }
    }

    /**
     * For readiness: the token answers through the current provider (opened again here when it was
     * lost and a retry is due). Never throws.
     */
    boolean reachable() {
        try {
            Generation current = current();
            if (answers(current, lastUsedLabel)) {
                return true;
            }
            lost(current, null);
            return false;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private RuntimeException unavailableIfLost(Generation current, RuntimeException e) {
        if (!fromTheToken(e)) {
            return e;
        }
        lost(current, e);
        return new KeyUnavailableException(UNAVAILABLE, e);
    }

    /**
     * Whether {@code e} came from the token itself (a PKCS#11 error or the provider's own failure),
     * and not from the data: a tag that does not verify is the token's answer, not its absence.
     */
    static boolean fromTheToken(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof javax.crypto.BadPaddingException || t instanceof javax.crypto.IllegalBlockSizeException) {
                return false;
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ProviderException || t.getClass().getName().startsWith("sun.security.pkcs11.")) {
                return true;
            }
        }
        return false;
    }

    private void lost(Generation current, Throwable cause) {
        synchronized (this) {
            if (generation != current) {
                return; // another thread saw it first, or a new provider already replaced it
            }
            generation = null;
            lostAtNanos = System.nanoTime();
            lastAttemptNanos = lostAtNanos - RETRY.toNanos(); // the next use may try at once
            lostGenerations.addLast(current);
            while (lostGenerations.size() > KEPT_LOST_PROVIDERS) {
                lostGenerations.removeFirst();
            }
        }
        // The PKCS#11 return value's name (CKR_...) is the provider's own text, never input.
        log.warn("The HSM session was lost ({}); requests that need a key unwrapped are refused until the token"
                + " is opened again", cause == null ? "no answer to the readiness probe" : pkcs11Reason(cause));
    }

    /**
     * The current provider; when lost, one thread opens a new one if a retry is due (holding
     * {@code reopening}, which nobody waits for), the rest are refused at once.
     */
    private Generation current() {
        Generation current = generation;
        if (current != null) {
            return current;
        }
        if (System.nanoTime() - lastAttemptNanos >= RETRY.toNanos() && reopening.tryLock()) {
            try {
                current = generation;
                if (current == null && System.nanoTime() - lastAttemptNanos >= RETRY.toNanos()) {
                    lastAttemptNanos = System.nanoTime();
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

    /** A new provider, logged in, whose key answers; null while the token refuses. */
    private Generation reopen() {
        try {
            Generation fresh = new Generation(Pkcs11Kek.Token.login(library, slotListIndex, pin, firstLabel),
                    new ConcurrentHashMap<>());
            // Logged in is not enough: the key must be found and answer through the new sessions.
            return answers(fresh, lastUsedLabel) ? fresh : null;
        } catch (RuntimeException e) {
            log.debug("The HSM token could not be opened again yet ({})", pkcs11Reason(e));
            return null;
        }
    }

    /** Whether the key under {@code label} answers through {@code generation}: "bad tag" for the probe. */
    private static boolean answers(Generation generation, String label) {
        try {
            generation.key(label).decrypt(PROBE, null);
            return false; // what cannot authenticate did: not a token to trust
        } catch (AEADBadTagException answered) {
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static String pkcs11Reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getClass().getName().startsWith("sun.security.pkcs11.wrapper.") && t.getMessage() != null) {
                return t.getMessage().split("[\\s,:]", 2)[0];
            }
        }
        return e.getClass().getSimpleName();
    }

    private static byte[] probeCiphertext() {
        // 16 bytes of "plaintext" before the tag: an empty output could be taken for a length query
        byte[] probe = new byte[1 + 12 + 16 + 16];
        probe[0] = 1; // JceGcmAead's format byte, so the token (not the framing) answers
        return probe;
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
