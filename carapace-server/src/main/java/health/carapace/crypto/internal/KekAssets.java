package health.carapace.crypto.internal;

import health.carapace.compliance.Asset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/** The KEK's custodian and the keyring database, for the asset inventory. */
@Component
class KekAssets implements Asset.Source {

    private final KekProperties kek;
    private final KeyringProperties keyring;
    private final KeyringStore store;

    KekAssets(KekProperties kek, KeyringProperties keyring, KeyringStore store) {
        this.kek = kek;
        this.keyring = keyring;
        this.store = store;
    }

    @Override
    public List<Asset> assets() {
        Map<String, String> details = new LinkedHashMap<>();
        String provider = String.valueOf(kek.provider());
        details.put("provider", provider);
        if (provider.equals("pkcs11")) {
            // The library path names the vendor's module; the PIN is never read here.
            details.put("PKCS#11 library", String.valueOf(kek.pkcs11().library()));
            details.put("key label", kek.pkcs11().keyLabel());
            details.put("mechanisms", "CKM_AES_KEY_GEN, CKM_AES_GCM");
        }
        return List.of(new Asset(provider.equals("pkcs11") ? "hsm" : "keystore",
                provider.equals("pkcs11") ? "PKCS#11 token (SunPKCS11)" : "start-dev PKCS#12 keystore", null, details,
                List.of("crypto -> KEK: data-key keysets wrapped and unwrapped (AES-256-GCM); no PHI")),
                new Asset("database", "keyring (PostgreSQL, own role and pool)", null,
                        Map.of("separate user", String.valueOf(keyring.username() != null),
                                "keyring connection", store.connectionTls()),
                        List.of("crypto -> keyring: wrapped keys only, never PHI")));
    }
}
