package health.carapace.crypto.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import health.carapace.crypto.KeyRotation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * The active KEK and index root key are younger than the rotation age (plus one check interval,
 * the most the scheduler may take to notice): a failing rotation shows here within a day, not at
 * the next audit. Evidence: versions, ages and states; data keys in aggregate only (their
 * references name patients).
 */
@Component
class KekAgeCheck implements ComplianceCheck {

    private final KeyRotation rotation;
    private final KeysProperties keys;

    KekAgeCheck(KeyRotation rotation, KeysProperties keys) {
        this.rotation = rotation;
        this.keys = keys;
    }

    @Override
    public String id() {
        return "crypto.kek-age";
    }

    @Override
    public String title() {
        return "Key-encryption and index root keys rotated within their maximum age";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.ENCRYPTION_AND_DECRYPTION, Rule.NPRM_ENCRYPTION_AT_REST);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        KeyRotation.Status status = rotation.status();
        Duration limit = keys.kekMaxAge().plus(keys.checkInterval());
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("carapace.keys.kek-max-age", keys.kekMaxAge())
                .with("carapace.keys.check-interval", keys.checkInterval());
        List<String> tooOld = new java.util.ArrayList<>();
        boolean activeKek = false;
        for (KeyRotation.Key key : status.keys()) {
            if (!key.kind().equals("kek") && !key.kind().equals("index-root")) {
                continue;
            }
            Duration age = key.createdAt() == null ? Duration.ZERO : Duration.between(key.createdAt(), now);
            evidence.with(key.kind() + " v" + key.version(), key.state() + ", created " + key.createdAt() + ", age "
                    + age.toDays() + " d");
            if (key.state().equals("active")) {
                activeKek |= key.kind().equals("kek");
                if (age.compareTo(limit) > 0) {
                    tooOld.add(key.kind() + " v" + key.version());
                }
            }
        }
        status.keys().stream().filter(k -> k.kind().equals("dek-summary")).findFirst()
                .ifPresent(k -> evidence.with("data keys", k.id()).with("oldest data key created", k.createdAt()));
        if (!activeKek) {
            return CheckResult.fail("no active KEK version", evidence);
        }
        return CheckResult.passIf(tooOld.isEmpty(),
                "active key older than the rotation age: " + String.join(", ", tooOld), evidence);
    }
}
