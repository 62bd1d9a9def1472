package health.carapace.verify;

import java.security.GeneralSecurityException;

/**
 * Signs tree heads with an Ed25519 key. {@link Ed25519TreeHeadSigner} signs with a JDK key
 * pair; the server signs with the audit key it unwraps with its KEK. Every implementation must
 * sign exactly {@link TreeHead#toSignedBytes()} with pure Ed25519 (RFC 8032), so that
 * {@link TreeHeadVerifier} accepts the result.
 */
public interface TreeHeadSigner {

    /** The id of the key this signer uses; heads it signs must carry it. */
    String keyId();

    /**
     * Signs {@code head}.
     *
     * @throws IllegalArgumentException if {@code head.keyId()} is not {@link #keyId()}
     * @throws GeneralSecurityException if the key cannot sign
     */
    SignedTreeHead sign(TreeHead head) throws GeneralSecurityException;
}
