package health.carapace.verify;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Objects;

/**
 * A {@link TreeHeadSigner} over a JDK Ed25519 key pair ({@code Signature.getInstance("Ed25519")},
 * JDK 15 and later). Thread-safe.
 */
public final class Ed25519TreeHeadSigner implements TreeHeadSigner {

    private final PrivateKey privateKey;
    private final TreeHeadVerifier verifier;

    private Ed25519TreeHeadSigner(PrivateKey privateKey, TreeHeadVerifier verifier) {
        this.privateKey = privateKey;
        this.verifier = verifier;
    }

    /** A signer over a fresh random key pair: for tests and development. */
    public static Ed25519TreeHeadSigner generate() {
        try {
            return of(KeyPairGenerator.getInstance(Ed25519Keys.ALGORITHM).generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is missing from this JDK", e);
        }
    }

    /**
     * A signer over an existing key pair.
     *
     * @throws IllegalArgumentException if the pair is not Ed25519, or its halves do not belong
     *     together (checked by signing and verifying a test message: a mismatched pair would
     *     otherwise sign heads that nobody can verify, found out only at an audit)
     */
    public static Ed25519TreeHeadSigner of(KeyPair keyPair) {
        Objects.requireNonNull(keyPair, "keyPair");
        TreeHeadVerifier verifier = TreeHeadVerifier.fromPublicKey(keyPair.getPublic());
        PrivateKey privateKey = Objects.requireNonNull(keyPair.getPrivate(), "private key");
        byte[] probe = "carapace-key-pair-check".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature signer = Signature.getInstance(Ed25519Keys.ALGORITHM);
            signer.initSign(privateKey);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature check = Signature.getInstance(Ed25519Keys.ALGORITHM);
            check.initVerify(keyPair.getPublic());
            check.update(probe);
            if (!check.verify(signature)) {
                throw new IllegalArgumentException("the private key does not belong to the public key");
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not a usable Ed25519 key pair", e);
        }
        return new Ed25519TreeHeadSigner(privateKey, verifier);
    }

    @Override
    public String keyId() {
        return verifier.keyId();
    }

    /** The verifier for this signer's public key. */
    public TreeHeadVerifier verifier() {
        return verifier;
    }

    @Override
    public SignedTreeHead sign(TreeHead head) throws GeneralSecurityException {
        Objects.requireNonNull(head, "head");
        if (!head.keyId().equals(keyId())) {
            throw new IllegalArgumentException("the head names key " + head.keyId() + ", this signer's key is " + keyId());
        }
        Signature signature = Signature.getInstance(Ed25519Keys.ALGORITHM);
        signature.initSign(privateKey);
        signature.update(head.toSignedBytes());
        return SignedTreeHead.of(head, signature.sign());
    }
}
