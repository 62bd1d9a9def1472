package health.carapace.crypto.internal;

import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyUnavailableException;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.security.auth.login.FailedLoginException;
import javax.security.auth.login.LoginException;

/**
 * KEK held in an HSM through the JDK's SunPKCS11 provider. The AES-256 key is generated inside
 * the token as sensitive and non-extractable; wrapping is AES/GCM performed by the token (the
 * JDK's PKCS#11 provider offers no AES key wrap on JDK 17, so GCM over the keyset bytes it is).
 */
public final class Pkcs11Kek extends JceKeyEncryptionKey {

    private final String label;
    private final Key key;
    private final Provider provider;

    private Pkcs11Kek(String label, Key key, Provider provider) {
        super(key, provider);
        this.label = label;
        this.key = key;
        this.provider = provider;
    }

    /**
     * Logs into the token and finds the key labelled {@code label}; generates it in the token
     * only when {@code mayCreate} (an empty keyring).
     */
    public static Pkcs11Kek open(String library, int slotListIndex, char[] pin, String label, boolean mayCreate) {
        Token token = Token.login(library, slotListIndex, pin, label);
        Pkcs11Kek found = token.find(label);
        if (found != null) {
            return found;
        }
        if (!mayCreate) {
            throw new KeyUnavailableException("The keyring holds keys wrapped by pkcs11/" + label
                    + " but the HSM token has no key with that label: encrypted records cannot be read");
        }
        return token.create(label);
    }

    /**
     * A logged-in token holding one key object per KEK version, each under its own label. Rotation
     * generates the next version here; other nodes find it by reloading the token's key list.
     */
    static final class Token {

        private final Provider provider;
        private final KeyStore keyStore;
        private final char[] pin;
        private final String firstLabel;

        private Token(Provider provider, KeyStore keyStore, char[] pin, String firstLabel) {
            this.provider = provider;
            this.keyStore = keyStore;
            this.pin = pin;
            this.firstLabel = firstLabel;
        }

        static Token login(String library, int slotListIndex, char[] pin, String label) {
            return login(configure(library, slotListIndex), pin, label);
        }

        /**
         * Logs in through {@code provider}, a fresh one from {@link #configure}. Apart, so that a caller can
         * keep the provider referenced whatever the outcome: an unreachable provider has the JDK close its
         * sessions by number, which may by then belong to another provider ({@link HsmSession}).
         */
        static Token login(Provider provider, char[] pin, String label) {
            try {
                KeyStore keyStore = KeyStore.getInstance("PKCS11", provider);
                keyStore.load(null, pin);
                return new Token(provider, keyStore, pin, label);
            } catch (Exception e) {
                throw new KeyUnavailableException(openFailure(label, pin != null, e), e);
            }
        }

        /**
         * The key under {@code label}, or null. SunPKCS11 lists the token's labels when its key
         * store loads, so a miss reloads the list once: another node may have just made the key.
         */
        synchronized Pkcs11Kek find(String label) {
            try {
                Key key = keyStore.getKey(label, null);
                if (key == null) {
                    keyStore.load(null, pin);
                    key = keyStore.getKey(label, null);
                }
                return key == null ? null : new Pkcs11Kek(label, key, provider);
            } catch (Exception e) {
                throw new KeyUnavailableException(openFailure(label, pin != null, e), e);
            }
        }

        /** Generates a new AES-256 key object in the token under {@code label}. */
        synchronized Pkcs11Kek create(String label) {
            try {
                KeyGenerator generator = KeyGenerator.getInstance("AES", provider);
                generator.init(256);
                SecretKey sessionKey = generator.generateKey();
                // Storing copies the key into a persistent token object (C_CopyObject); its
                // sensitive / non-extractable attributes come from the provider configuration.
                keyStore.setKeyEntry(label, sessionKey, null, null);
                return new Pkcs11Kek(label, keyStore.getKey(label, null), provider);
            } catch (Exception e) {
                throw new KeyUnavailableException(openFailure(label, pin != null, e), e);
            }
        }

        String firstLabel() {
            return firstLabel;
        }

        Provider provider() {
            return provider;
        }
    }

    /**
     * SunPKCS11 reports a refused PIN as {@code IOException("load failed")}, with the reason three
     * causes down; an operator should not have to read a stack trace to learn that the PIN is wrong.
     */
    private static String openFailure(String label, boolean pinGiven, Exception e) {
        String kek = "the KEK pkcs11/" + label;
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof FailedLoginException) {
                return "The PKCS#11 token refused the PIN (carapace.kek.pkcs11.pin), so " + kek + " cannot be opened";
            }
            if (cause instanceof LoginException && !pinGiven) {
                return "The PKCS#11 token requires a login but no PIN is configured (carapace.kek.pkcs11.pin), so "
                        + kek + " cannot be opened";
            }
            if (cause instanceof LoginException) {
                // e.g. CKR_PIN_LOCKED or CKR_PIN_EXPIRED: the PKCS#11 return value is the reason.
                Throwable reason = cause.getCause();
                return "The PKCS#11 token refused the login" + (reason == null ? "" : " (" + reason.getMessage() + ")")
                        + ", so " + kek + " cannot be opened";
            }
        }
        return "Cannot open " + kek + " in the PKCS#11 token";
    }

    /** A new SunPKCS11 instance for the token (the JDK shares the library once initialised). */
    static Provider configure(String library, int slotListIndex) {
        String config = String.join("\n",
                "name = Carapace",
                "library = " + library,
                "slotListIndex = " + slotListIndex,
                "attributes(generate, CKO_SECRET_KEY, CKK_AES) = {",
                "  CKA_SENSITIVE = true",
                "  CKA_EXTRACTABLE = false",
                "}",
                "attributes(import, CKO_SECRET_KEY, CKK_AES) = {",
                "  CKA_SENSITIVE = true",
                "  CKA_EXTRACTABLE = false",
                "}");
        Provider base = Security.getProvider("SunPKCS11");
        if (base == null) {
            throw new KeyUnavailableException("This JDK has no SunPKCS11 provider");
        }
        try {
            return base.configure("--" + config);
        } catch (RuntimeException e) {
            // Not only a missing library ends here: a slot index past the end of the slot list, or
            // a slot whose token is not initialised, fails the same way. Name both settings.
            throw new KeyUnavailableException("Cannot use the PKCS#11 library " + library + " at slot list index "
                    + slotListIndex + " (carapace.kek.pkcs11.library, carapace.kek.pkcs11.slot-list-index)", e);
        }
    }

    /** The token key object, for tests that check it cannot be extracted. */
    Key tokenKey() {
        return key;
    }

    /** The SunPKCS11 instance this KEK opened, for tests that try the provider's own export paths. */
    Provider provider() {
        return provider;
    }

    @Override
    public String id() {
        return "pkcs11/" + label;
    }
}
