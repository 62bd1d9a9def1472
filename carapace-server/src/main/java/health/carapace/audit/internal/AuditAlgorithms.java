package health.carapace.audit.internal;

import health.carapace.platform.config.AlgorithmInventory;
import health.carapace.platform.config.AlgorithmUse;
import health.carapace.platform.config.AlgorithmUse.Kind;
import health.carapace.verify.Ed25519TreeHeadSigner;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * The audit trail's algorithms: tree heads are signed with Ed25519 ({@link Ed25519TreeHeadSigner}
 * accepts no other key: it checks the loaded pair by signing and verifying), and the Merkle tree
 * hashes with SHA-256 (RFC 6962). Search queries are encrypted with a record data key, which the
 * crypto module reports.
 */
@Component
class AuditAlgorithms implements AlgorithmInventory {

    private final Ed25519TreeHeadSigner signer;

    AuditAlgorithms(Ed25519TreeHeadSigner signer) {
        this.signer = signer;
    }

    @Override
    public List<AlgorithmUse> algorithmsInUse() {
        return List.of(
                new AlgorithmUse("audit tree-head signing key", Kind.SIGNATURE, "Ed25519", 256, "key " + signer.keyId()),
                AlgorithmUse.of("audit Merkle tree (RFC 6962)", Kind.DIGEST, "SHA-256", 0));
    }
}
