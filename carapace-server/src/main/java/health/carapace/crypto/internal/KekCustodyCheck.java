package health.carapace.crypto.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import java.time.Instant;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * The KEK is held by an HSM over PKCS#11 (non-extractable), not the start-dev keystore whose
 * passphrase sits beside it. Fails in start-dev on purpose: a development server is not evidence.
 */
@Component
class KekCustodyCheck implements ComplianceCheck {

    private final KekProperties kek;
    private final KekRing ring;

    KekCustodyCheck(KekProperties kek, KekRing ring) {
        this.kek = kek;
        this.ring = ring;
    }

    @Override
    public String id() {
        return "crypto.kek-custody";
    }

    @Override
    public String title() {
        return "The key-encryption key is held in an HSM";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.ENCRYPTION_AND_DECRYPTION, Rule.NPRM_ENCRYPTION_AT_REST);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        String provider = String.valueOf(kek.provider());
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("carapace.kek.provider", provider)
                .with("active KEK", ring.active().id());
        if (provider.equals("pkcs11")) {
            evidence.with("PKCS#11 key label", kek.pkcs11().keyLabel())
                    .with("PKCS#11 slot list index", kek.pkcs11().slotListIndex())
                    .with("mechanism", "AES/GCM/NoPadding inside the token (CKM_AES_GCM); key sensitive, non-extractable");
        }
        return CheckResult.passIf(provider.equals("pkcs11"),
                "the KEK is in the start-dev keystore, not an HSM (development only)", evidence);
    }
}
