package health.carapace.verify;

import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Objects;

/**
 * Checks tree-head signatures with one Ed25519 public key, the only thing an auditor has to
 * trust. Immutable and thread-safe.
 */
public final class TreeHeadVerifier {

    private final PublicKey publicKey;
    private final String keyId;

    private TreeHeadVerifier(PublicKey publicKey) {
        this.publicKey = publicKey;
        this.keyId = Ed25519Keys.keyId(publicKey);
    }

    /** @throws IllegalArgumentException if the key is not Ed25519 */
    public static TreeHeadVerifier fromPublicKey(PublicKey publicKey) {
        return new TreeHeadVerifier(Ed25519Keys.requireEd25519(Objects.requireNonNull(publicKey, "publicKey")));
    }

    /**
     * A key as X.509 SubjectPublicKeyInfo DER (RFC 8410).
     *
     * @throws IllegalArgumentException if it is not the DER encoding of an Ed25519 key
     */
    public static TreeHeadVerifier fromSubjectPublicKeyInfo(byte[] der) {
        return new TreeHeadVerifier(Ed25519Keys.fromSubjectPublicKeyInfo(Objects.requireNonNull(der, "der")));
    }

    /**
     * A key as one PEM block, {@code -----BEGIN PUBLIC KEY-----} (RFC 7468 section 13), as in the
     * bundle's {@code public-key.pem} or the output of {@code openssl pkey -pubout}.
     *
     * @throws IllegalArgumentException if it is not exactly one such block holding an Ed25519 key
     */
    public static TreeHeadVerifier fromPem(String pem) {
        return new TreeHeadVerifier(Ed25519Keys.fromPem(Objects.requireNonNull(pem, "pem")));
    }

    /** The key id that heads signed by this key carry: lowercase hex SHA-256 of {@link #subjectPublicKeyInfo()}. */
    public String keyId() {
        return keyId;
    }

    /** The public key as X.509 SubjectPublicKeyInfo DER. */
    public byte[] subjectPublicKeyInfo() {
        return publicKey.getEncoded();
    }

    /** The public key as a PEM block, as written to a bundle's {@code public-key.pem}. */
    public String toPem() {
        return Ed25519Keys.toPem(publicKey);
    }

    /**
     * Checks that {@code signedHead} names this key and that its signature over
     * {@link TreeHead#toSignedBytes()} is valid.
     *
     * @throws VerificationException if it is not
     */
    public void verify(SignedTreeHead signedHead) throws VerificationException {
        TreeHead head = signedHead.head();
        if (!head.keyId().equals(keyId)) {
            throw new VerificationException("tree head of size " + head.treeSize() + " names key " + head.keyId()
                    + ", not the trusted key " + keyId);
        }
        boolean valid;
        try {
            Signature signature = Signature.getInstance(Ed25519Keys.ALGORITHM);
            signature.initVerify(publicKey);
            signature.update(head.toSignedBytes());
            valid = signature.verify(signedHead.signature());
        } catch (GeneralSecurityException e) {
            // A malformed signature (for example an out-of-range point) is a bad signature.
            throw new VerificationException("tree head of size " + head.treeSize() + ": signature is malformed", e);
        }
        if (!valid) {
            throw new VerificationException("tree head of size " + head.treeSize() + ": signature does not verify");
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TreeHeadVerifier that && keyId.equals(that.keyId);
    }

    @Override
    public int hashCode() {
        return keyId.hashCode();
    }

    @Override
    public String toString() {
        return "TreeHeadVerifier[keyId=" + keyId + "]";
    }
}
