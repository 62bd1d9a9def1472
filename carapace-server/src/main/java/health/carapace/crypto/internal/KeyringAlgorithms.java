package health.carapace.crypto.internal;

import com.google.crypto.tink.KeysetHandle;
import health.carapace.crypto.BlindIndex;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.RecordCipher;
import health.carapace.platform.config.AlgorithmInventory;
import health.carapace.platform.config.AlgorithmUse;
import health.carapace.platform.config.AlgorithmUse.Kind;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * The crypto module's algorithms, read from the loaded keys: every usable KEK version (its size
 * from the key itself, in the HSM or the keystore), the template new data keys are made with,
 * the data keysets loaded so far (the shared one is loaded here, so there is always at least one), every
 * usable blind-index root key version and the token MAC.
 */
@Component
class KeyringAlgorithms implements AlgorithmInventory {

    private final KekRing kek;
    private final PatientKeyring keyring;
    private final BlindIndex blindIndex;

    KeyringAlgorithms(KekRing kek, PatientKeyring keyring, BlindIndex blindIndex) {
        this.kek = kek;
        this.keyring = keyring;
        this.blindIndex = blindIndex;
    }

    @Override
    public List<AlgorithmUse> algorithmsInUse() {
        List<AlgorithmUse> uses = new ArrayList<>();
        for (KeyEncryptionKey usable : kek.usableVersions()) {
            // a key in the HSM is judged as the current provider holds it
            KeyEncryptionKey version = usable instanceof HsmSession.Kek hsm ? hsm.current() : usable;
            if (version instanceof JceKeyEncryptionKey jce) {
                uses.add(new AlgorithmUse("KEK (wraps data keys, index root, system secrets)", Kind.KEY_WRAP,
                        "AES-GCM", jce.keyBits(), version.id() + " via " + jce.providerName()));
            } else {
                uses.add(AlgorithmUse.of("KEK", Kind.KEY_WRAP, version.getClass().getSimpleName(), 0));
            }
        }
        try {
            uses.addAll(TinkAlgorithms.describe("new record data keys (template)",
                    KeysetHandle.generateNew(PatientKeyring.DATA_KEY_TEMPLATE)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("The data-key template cannot be instantiated", e);
        }
        // The shared data keyset, if there is one, so that a stored data keyset is judged at
        // startup too; patient keysets are judged as they are unwrapped (PatientKeyring).
        uses.addAll(keyring.storedAlgorithms(RecordCipher.SHARED_COMPARTMENT));
        uses.addAll(keyring.loadedAlgorithms());
        if (blindIndex instanceof TinkBlindIndex tink) {
            uses.addAll(tink.rootAlgorithms());
            uses.add(AlgorithmUse.of("blind-index tokens", Kind.MAC,
                    TinkBlindIndex.TOKEN_MAC.replace("Hmac", "HMAC-"),
                    TinkBlindIndex.INDEX_KEY_BYTES * 8));
        }
        return uses;
    }

}
