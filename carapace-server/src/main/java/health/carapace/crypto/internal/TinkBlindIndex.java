package health.carapace.crypto.internal;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.prf.PredefinedPrfParameters;
import com.google.crypto.tink.prf.PrfSet;
import health.carapace.crypto.BlindIndex;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyUnavailableException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Blind indexes after CipherSweet: an index root key (Tink HKDF-SHA256 PRF, wrapped by the KEK)
 * derives one HMAC-SHA256 key per index; tokens are the HMAC truncated to the requested bits.
 */
final class TinkBlindIndex implements BlindIndex {

    private static final String ROOT_REF = "index-root";

    static final String COMPONENT = "blind-index root key";
    /** Tokens are HMAC-SHA256 under a 256-bit key derived per index. */
    static final String TOKEN_MAC = "HmacSHA256";
    static final int INDEX_KEY_BYTES = 32;

    private final PrfSet root;
    private final java.util.List<health.carapace.platform.config.AlgorithmUse> rootAlgorithms;
    private final ConcurrentMap<String, SecretKeySpec> indexKeys = new ConcurrentHashMap<>();

    TinkBlindIndex(KeyringStore store, KeyEncryptionKey kek) {
        byte[] associatedData = ROOT_REF.getBytes(StandardCharsets.UTF_8);
        try {
            if (store.find(ROOT_REF).isEmpty()) {
                KeysetHandle fresh = KeysetHandle.generateNew(PredefinedPrfParameters.HKDF_SHA256);
                store.insertIfAbsent(ROOT_REF, kek.id(),
                        TinkProtoKeysetFormat.serializeEncryptedKeyset(fresh, kek, associatedData));
            }
            KeysetHandle handle = TinkProtoKeysetFormat.parseEncryptedKeyset(
                    store.find(ROOT_REF).orElseThrow().wrapped(), kek, associatedData);
            TinkAlgorithms.requireAllowed(COMPONENT, handle);
            this.rootAlgorithms = TinkAlgorithms.describe(COMPONENT, handle);
            this.root = handle.getPrimitive(RegistryConfiguration.get(), PrfSet.class);
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("The index root key cannot be unwrapped by the KEK", e);
        }
    }

    /** The root keyset's algorithms (every key). */
    java.util.List<health.carapace.platform.config.AlgorithmUse> rootAlgorithms() {
        return rootAlgorithms;
    }

    @Override
    public int token(String index, String normalisedValue, int bits) {
        if (bits < 1 || bits > 32) {
            throw new IllegalArgumentException("bits must be within 1..32");
        }
        try {
            Mac mac = Mac.getInstance(TOKEN_MAC);
            mac.init(indexKeys.computeIfAbsent(index, this::deriveIndexKey));
            byte[] digest = mac.doFinal(normalisedValue.getBytes(StandardCharsets.UTF_8));
            int first32 = ByteBuffer.wrap(digest, 0, 4).getInt();
            return bits == 32 ? first32 : first32 >>> (32 - bits);
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("Blind index computation failed", e);
        }
    }

    private SecretKeySpec deriveIndexKey(String index) {
        try {
            byte[] key = root.computePrimary(("carapace/blind-index/v1/" + index).getBytes(StandardCharsets.UTF_8),
                    INDEX_KEY_BYTES);
            return new SecretKeySpec(key, TOKEN_MAC);
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("Cannot derive a blind-index key", e);
        }
    }
}
