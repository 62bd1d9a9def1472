package health.carapace.audit;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The inclusion proof of one event in the sealed trail (RFC 6962): its leaf, the latest signed
 * tree head, and the audit path from the leaf to that head's root, checked here before it is
 * handed out. Anyone can check it again offline with the head's public key (carapace-verify).
 */
public interface AuditProofs {

    /**
     * @param leafHash SHA-256(0x00 || event body), hex
     * @param rootHash the signed head's root, hex
     * @param signature the head's Ed25519 signature, base64
     * @param auditPath the sibling hashes from the leaf up, hex
     */
    record Inclusion(UUID event, long leafIndex, long treeSize, String leafHash, String rootHash, Instant headSignedAt,
            String keyId, String signature, List<String> auditPath) {}

    /** Empty when there is no such event, or it is not yet under a signed tree head. */
    Optional<Inclusion> inclusion(UUID eventId);
}
