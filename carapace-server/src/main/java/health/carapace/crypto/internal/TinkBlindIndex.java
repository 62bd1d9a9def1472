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

    private final PrfSet root;
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
            this.root = handle.getPrimitive(RegistryConfiguration.get(), PrfSet.class);
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("The index root key cannot be unwrapped by the KEK", e);
        }
    }

    @Override
    public int token(String index, String normalisedValue, int bits) {
        if (bits < 1 || bits > 32) {
            throw new IllegalArgumentException("bits must be within 1..32");
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
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
            byte[] key = root.computePrimary(("carapace/blind-index/v1/" + index).getBytes(StandardCharsets.UTF_8), 32);
            return new SecretKeySpec(key, "HmacSHA256");
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("Cannot derive a blind-index key", e);
        }
    }
}
