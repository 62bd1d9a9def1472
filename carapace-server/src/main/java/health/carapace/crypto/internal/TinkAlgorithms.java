package health.carapace.crypto.internal;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.Parameters;
import com.google.crypto.tink.aead.AesCtrHmacAeadParameters;
import com.google.crypto.tink.aead.AesEaxParameters;
import com.google.crypto.tink.aead.AesGcmParameters;
import com.google.crypto.tink.aead.AesGcmSivParameters;
import com.google.crypto.tink.aead.ChaCha20Poly1305Parameters;
import com.google.crypto.tink.aead.XChaCha20Poly1305Parameters;
import com.google.crypto.tink.prf.HkdfPrfParameters;
import com.google.crypto.tink.prf.HmacPrfParameters;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.platform.config.AlgorithmPolicy;
import health.carapace.platform.config.AlgorithmUse;
import health.carapace.platform.config.AlgorithmUse.Kind;
import health.carapace.platform.logging.SafeMessage;
import java.util.ArrayList;
import java.util.List;

/**
 * What the keys of a Tink keyset are, as {@link AlgorithmUse}s: every key, not only the primary,
 * since any of them may still decrypt (or, after a careless rotation, encrypt).
 */
final class TinkAlgorithms {

    private TinkAlgorithms() {
    }

    static List<AlgorithmUse> describe(String component, KeysetHandle handle) {
        List<AlgorithmUse> uses = new ArrayList<>();
        for (int i = 0; i < handle.size(); i++) {
            uses.add(describe(component, handle.getAt(i).getKey().getParameters()));
        }
        return uses;
    }

    /** A keyset below the floor; the message names algorithms only, so logs may show it. */
    static final class WeakKey extends KeyUnavailableException implements SafeMessage {
        WeakKey(String message) {
            super(message);
        }
    }

    static AlgorithmUse describe(String component, Parameters p) {
        if (p instanceof AesGcmParameters gcm) {
            return AlgorithmUse.of(component, Kind.AEAD, "AES-GCM", gcm.getKeySizeBytes() * 8);
        }
        if (p instanceof ChaCha20Poly1305Parameters) {
            return AlgorithmUse.of(component, Kind.AEAD, "ChaCha20-Poly1305", 256);
        }
        if (p instanceof XChaCha20Poly1305Parameters) {
            return AlgorithmUse.of(component, Kind.AEAD, "XChaCha20-Poly1305", 256);
        }
        if (p instanceof AesCtrHmacAeadParameters ctr) {
            return AlgorithmUse.of(component, Kind.AEAD, "AES-CTR-HMAC-" + ctr.getHashType(), ctr.getAesKeySizeBytes() * 8);
        }
        if (p instanceof AesEaxParameters eax) {
            return AlgorithmUse.of(component, Kind.AEAD, "AES-EAX", eax.getKeySizeBytes() * 8);
        }
        if (p instanceof AesGcmSivParameters siv) {
            return AlgorithmUse.of(component, Kind.AEAD, "AES-GCM-SIV", siv.getKeySizeBytes() * 8);
        }
        if (p instanceof HkdfPrfParameters hkdf) {
            return AlgorithmUse.of(component, Kind.KDF, "HKDF-" + hkdf.getHashType(), hkdf.getKeySizeBytes() * 8);
        }
        if (p instanceof HmacPrfParameters hmac) {
            return AlgorithmUse.of(component, Kind.MAC, "HMAC-" + hmac.getHashType(), hmac.getKeySizeBytes() * 8);
        }
        // Unknown to this check, so refused by the allowlist until someone decides otherwise.
        return AlgorithmUse.of(component, Kind.AEAD, p.getClass().getSimpleName(), 0);
    }

    /** Refuses to use a keyset with any key below the floor (the message names algorithms only). */
    static void requireAllowed(String component, KeysetHandle handle) {
        List<String> problems = AlgorithmPolicy.problems(describe(component, handle));
        if (!problems.isEmpty()) {
            throw new WeakKey("A keyset uses an algorithm below the floor and is not used: "
                    + String.join("; ", problems));
        }
    }
}
