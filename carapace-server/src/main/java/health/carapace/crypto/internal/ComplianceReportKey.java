package health.carapace.crypto.internal;

import health.carapace.compliance.ReportSigningKey;
import health.carapace.crypto.SystemSecrets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import org.springframework.stereotype.Component;

/**
 * The Ed25519 key that signs compliance reports: generated once, kept in the keyring wrapped by
 * the KEK, like the audit signing key but a key of its own (one key, one use: ADR 0015), loaded on
 * first use so that a server that never reports never creates it.
 */
@Component
class ComplianceReportKey implements ReportSigningKey {

    static final String NAME = "compliance-report-ed25519";

    private final SystemSecrets secrets;
    private volatile KeyPair keyPair;

    ComplianceReportKey(SystemSecrets secrets) {
        this.secrets = secrets;
    }

    @Override
    public KeyPair keyPair() {
        KeyPair loaded = keyPair;
        if (loaded == null) {
            synchronized (this) {
                if (keyPair == null) {
                    keyPair = secrets.keyPair(NAME, "Ed25519", () -> {
                        try {
                            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
                        } catch (GeneralSecurityException e) {
                            throw new IllegalStateException("Cannot generate the compliance report key", e);
                        }
                    });
                }
                loaded = keyPair;
            }
        }
        return loaded;
    }
}
