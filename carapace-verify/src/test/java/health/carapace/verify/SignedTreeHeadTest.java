package health.carapace.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SignedTreeHeadTest {

    private static final MerkleHash ROOT = MerkleHash.ofLeaf("root".getBytes(StandardCharsets.US_ASCII));
    private static final long TIMESTAMP = 1_767_225_600_000L; // 2026-01-01T00:00:00Z

    /** The Ed25519 public key of RFC 8410 section 10.1. */
    private static final String RFC_8410_PEM = """
            -----BEGIN PUBLIC KEY-----
            MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
            -----END PUBLIC KEY-----
            """;

    private final Ed25519TreeHeadSigner signer = Ed25519TreeHeadSigner.generate();
    private final TreeHeadVerifier verifier = signer.verifier();

    @Test
    void signedBytesFollowTheDocumentedLayout() {
        TreeHead head = TreeHead.of(0x0102030405060708L, ROOT, TIMESTAMP, signer.keyId());
        byte[] bytes = head.toSignedBytes();

        assertThat(bytes).hasSize(135);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        byte[] domain = new byte[21];
        buffer.get(domain);
        assertThat(new String(domain, StandardCharsets.US_ASCII)).isEqualTo("carapace-tree-head-v1");
        assertThat(buffer.get()).isEqualTo((byte) 1);
        assertThat(bytes[22]).isEqualTo((byte) 0x01); // big-endian size
        assertThat(buffer.getLong()).isEqualTo(0x0102030405060708L);
        byte[] root = new byte[32];
        buffer.get(root);
        assertThat(root).isEqualTo(ROOT.toByteArray());
        assertThat(buffer.getLong()).isEqualTo(TIMESTAMP);
        assertThat(buffer.get()).isEqualTo((byte) 64);
        byte[] keyId = new byte[64];
        buffer.get(keyId);
        assertThat(new String(keyId, StandardCharsets.US_ASCII)).isEqualTo(signer.keyId());
        assertThat(buffer.hasRemaining()).isFalse();
    }

    @Test
    void aSignedHeadVerifiesWithTheSignersPublicKey() throws GeneralSecurityException {
        SignedTreeHead signed = signer.sign(TreeHead.of(1000, ROOT, TIMESTAMP, signer.keyId()));

        verifier.verify(signed);
        TreeHeadVerifier.fromPem(verifier.toPem()).verify(signed);
        TreeHeadVerifier.fromSubjectPublicKeyInfo(verifier.subjectPublicKeyInfo()).verify(signed);
    }

    @Test
    void changingAnySignedFieldBreaksTheSignature() throws GeneralSecurityException {
        TreeHead head = TreeHead.of(1000, ROOT, TIMESTAMP, signer.keyId());
        byte[] signature = signer.sign(head).signature();
        byte[] otherRoot = ROOT.toByteArray();
        otherRoot[31] ^= 1;

        assertRejected(SignedTreeHead.of(TreeHead.of(1001, ROOT, TIMESTAMP, signer.keyId()), signature));
        assertRejected(SignedTreeHead.of(TreeHead.of(999, ROOT, TIMESTAMP, signer.keyId()), signature));
        assertRejected(SignedTreeHead.of(
                TreeHead.of(1000, MerkleHash.fromBytes(otherRoot), TIMESTAMP, signer.keyId()), signature));
        assertRejected(SignedTreeHead.of(TreeHead.of(1000, ROOT, TIMESTAMP + 1, signer.keyId()), signature));
        assertRejected(SignedTreeHead.of(TreeHead.of(1000, ROOT, TIMESTAMP, "0".repeat(64)), signature));
        for (int bit = 0; bit < 64 * 8; bit += 37) {
            byte[] flipped = signature.clone();
            flipped[bit / 8] ^= (byte) (1 << (bit % 8));
            assertRejected(SignedTreeHead.of(head, flipped));
        }
    }

    @Test
    void aHeadSignedWithAnotherKeyIsRejected() throws GeneralSecurityException {
        Ed25519TreeHeadSigner other = Ed25519TreeHeadSigner.generate();
        SignedTreeHead byOther = other.sign(TreeHead.of(1000, ROOT, TIMESTAMP, other.keyId()));
        assertThatThrownBy(() -> verifier.verify(byOther))
                .isInstanceOf(VerificationException.class).hasMessageContaining("not the trusted key");

        // The same forgery claiming the trusted key's id fails on the signature itself.
        TreeHead claimingTrustedKey = TreeHead.of(1000, ROOT, TIMESTAMP, signer.keyId());
        SignedTreeHead forged = SignedTreeHead.of(claimingTrustedKey, byOther.signature());
        assertThatThrownBy(() -> verifier.verify(forged))
                .isInstanceOf(VerificationException.class).hasMessageContaining("does not verify");
    }

    @Test
    void aMalformedSignatureIsAVerificationFailure() {
        SignedTreeHead head = SignedTreeHead.of(TreeHead.of(1, ROOT, TIMESTAMP, signer.keyId()), filled((byte) 0xff));
        assertRejected(head);
        assertThatThrownBy(() -> SignedTreeHead.of(head.head(), new byte[63]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void signerRefusesAHeadNamingAnotherKey() {
        TreeHead head = TreeHead.of(1, ROOT, TIMESTAMP, Ed25519TreeHeadSigner.generate().keyId());
        assertThatThrownBy(() -> signer.sign(head)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void keyPairsWhoseHalvesDoNotMatchAreRefused() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
        KeyPair first = generator.generateKeyPair();
        KeyPair second = generator.generateKeyPair();
        assertThatThrownBy(() -> Ed25519TreeHeadSigner.of(new KeyPair(first.getPublic(), second.getPrivate())))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readsThePublicKeyOfRfc8410AndIdentifiesItByItsSha256() {
        TreeHeadVerifier rfcKey = TreeHeadVerifier.fromPem(RFC_8410_PEM);
        byte[] der = Base64.getDecoder().decode("MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=");
        assertThat(rfcKey.subjectPublicKeyInfo()).isEqualTo(der);
        assertThat(rfcKey.keyId()).isEqualTo(java.util.HexFormat.of().formatHex(Sha256.hash(der)));
        assertThat(TreeHeadVerifier.fromPem(rfcKey.toPem()).keyId()).isEqualTo(rfcKey.keyId());
    }

    @Test
    void keysThatAreNotOneEd25519PublicKeyAreRefused() throws GeneralSecurityException {
        KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        KeyPair ed448 = KeyPairGenerator.getInstance("Ed448").generateKeyPair();
        assertThatThrownBy(() -> TreeHeadVerifier.fromPublicKey(rsa.getPublic()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TreeHeadVerifier.fromPublicKey(ed448.getPublic()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TreeHeadVerifier.fromSubjectPublicKeyInfo(ed448.getPublic().getEncoded()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TreeHeadVerifier.fromPem(RFC_8410_PEM + RFC_8410_PEM))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TreeHeadVerifier.fromPem(RFC_8410_PEM.replace("MCow", "MC*w")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TreeHeadVerifier.fromPem(RFC_8410_PEM.replace("PUBLIC KEY", "PRIVATE KEY")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void impossibleHeadsCannotBeMade() {
        assertThatThrownBy(() -> TreeHead.of(-1, ROOT, TIMESTAMP, signer.keyId()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TreeHead.of(1, ROOT, -1, signer.keyId()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TreeHead.of(1, ROOT, TIMESTAMP, "audit-key-1"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TreeHead.of(1, ROOT, TIMESTAMP, signer.keyId().toUpperCase()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private void assertRejected(SignedTreeHead head) {
        assertThatThrownBy(() -> verifier.verify(head)).isInstanceOf(VerificationException.class);
    }

    private static byte[] filled(byte value) {
        byte[] bytes = new byte[64];
        Arrays.fill(bytes, value);
        return bytes;
    }
}
