package health.carapace.crypto.internal;

import com.google.crypto.tink.Aead;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.Provider;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM through a JCA provider, as a Tink {@link Aead}, so that a key held by the JDK
 * keystore or inside a PKCS#11 token can wrap Tink keysets. The mode is the provider's; this
 * class only frames the output as {@code version(1) || iv(12) || ciphertext+tag(16)}.
 */
final class JceGcmAead implements Aead {

    private static final byte FORMAT_V1 = 1;
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Key key;
    private final Provider provider;

    JceGcmAead(Key key, Provider provider) {
        this.key = key;
        this.provider = provider;
    }

    @Override
    public byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
        byte[] iv = new byte[IV_BYTES];
        RANDOM.nextBytes(iv);
        Cipher cipher = cipher();
        cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
        if (associatedData != null) {
            cipher.updateAAD(associatedData);
        }
        byte[] sealed = cipher.doFinal(plaintext);
        return ByteBuffer.allocate(1 + IV_BYTES + sealed.length).put(FORMAT_V1).put(iv).put(sealed).array();
    }

    @Override
    public byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException {
        if (ciphertext.length < 1 + IV_BYTES + TAG_BITS / 8 || ciphertext[0] != FORMAT_V1) {
            throw new GeneralSecurityException("wrapped key has an unknown format");
        }
        Cipher cipher = cipher();
        cipher.init(Cipher.DECRYPT_MODE, key,
                new GCMParameterSpec(TAG_BITS, Arrays.copyOfRange(ciphertext, 1, 1 + IV_BYTES)));
        if (associatedData != null) {
            cipher.updateAAD(associatedData);
        }
        return cipher.doFinal(ciphertext, 1 + IV_BYTES, ciphertext.length - 1 - IV_BYTES);
    }

    private Cipher cipher() throws GeneralSecurityException {
        return provider == null
                ? Cipher.getInstance("AES/GCM/NoPadding")
                : Cipher.getInstance("AES/GCM/NoPadding", provider);
    }
}
