package health.carapace.crypto.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import health.carapace.crypto.KeyRotation;
import java.time.Instant;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * No AES-GCM key (KEK version or data key) has reached the encryption warning, well below the
 * 2^32 messages one GCM key may safely encrypt with random nonces; and no key job is stuck failed.
 */
@Component
class KeyUsageCheck implements ComplianceCheck {

    private final KeyRotation rotation;
    private final KeyringStore store;

    KeyUsageCheck(KeyRotation rotation, KeyringStore store) {
        this.rotation = rotation;
        this.store = store;
    }

    @Override
    public String id() {
        return "crypto.key-usage";
    }

    @Override
    public String title() {
        return "Encryption keys below their usage bound; key jobs not failed";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.ENCRYPTION_AND_DECRYPTION, Rule.MECHANISM_TO_AUTHENTICATE_EPHI);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        KeyRotation.Status status = rotation.status();
        long kekOver = status.keys().stream().filter(k -> k.kind().equals("kek") && k.warning()).count();
        long dekOver = store.dekKeysAtOrOver(status.encryptionWarning());
        List<String> failedJobs = status.jobs().stream().filter(j -> j.state().equals("failed"))
                .map(j -> j.kind() + " started " + j.startedAt()).toList();
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("encryption warning per key", status.encryptionWarning())
                .with("KEK versions at or over it", kekOver)
                .with("data keys at or over it", dekOver)
                .withList("failed key jobs", failedJobs, 5)
                .with("AEAD", "AES-256-GCM (Tink keysets under the KEK)");
        if (kekOver + dekOver > 0) {
            return CheckResult.fail("keys at or past the encryption warning: rotate", evidence);
        }
        return CheckResult.passIf(failedJobs.isEmpty(), "a key job failed", evidence);
    }
}
