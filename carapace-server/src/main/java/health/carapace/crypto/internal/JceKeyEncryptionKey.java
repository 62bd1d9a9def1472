package health.carapace.crypto.internal;

import health.carapace.crypto.KeyEncryptionKey;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.Provider;

/** A KEK whose wrapping is AES-GCM performed by the JCA provider that holds the key. */
abstract class JceKeyEncryptionKey implements KeyEncryptionKey {

    private static final java.util.regex.Pattern P11_KEY_LENGTH = java.util.regex.Pattern.compile(", (\\d+) bits ");

    private final JceGcmAead aead;
    private final int keyBits;
    private final String providerName;

    JceKeyEncryptionKey(Key key, Provider provider) {
        this.aead = new JceGcmAead(key, provider);
        this.keyBits = keyBits(key);
        this.providerName = provider == null ? "default JCA provider" : provider.getName();
    }

    /**
     * The KEK's size in bits, or 0 if it cannot be told (which the algorithm check refuses). A key
     * in an HSM is not extractable, so its encoding is unavailable; SunPKCS11's keys state their
     * length in their description instead. For AES keys loaded from the token that number is the
     * token's CKA_VALUE_LEN, in bytes (generated keys state bits); no AES key is shorter than 128
     * bits, so a number below 64 is bytes.
     */
    static int keyBits(Key key) {
        byte[] encoded = key.getEncoded();
        if (encoded != null) {
            return encoded.length * 8;
        }
        java.util.regex.Matcher m = P11_KEY_LENGTH.matcher(String.valueOf(key));
        if (!m.find()) {
            return 0;
        }
        int stated = Integer.parseInt(m.group(1));
        return stated < 64 ? stated * 8 : stated;
    }

    /** Size of the KEK in bits (0: unknown, which the algorithm check refuses). */
    int keyBits() {
        return keyBits;
    }

    String providerName() {
        return providerName;
    }

    @Override
    public final byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
        return aead.encrypt(plaintext, associatedData);
    }

    @Override
    public final byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException {
        return aead.decrypt(ciphertext, associatedData);
    }
}
