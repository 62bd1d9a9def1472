package health.carapace.verify;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.EdECKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/** Ed25519 public keys in and out of X.509 SubjectPublicKeyInfo DER and PEM; key ids. */
final class Ed25519Keys {

    static final String ALGORITHM = "Ed25519";
    private static final String PEM_BEGIN = "-----BEGIN PUBLIC KEY-----";
    private static final String PEM_END = "-----END PUBLIC KEY-----";

    private Ed25519Keys() {
    }

    /** Accepts only an Ed25519 key (not Ed448, not any other algorithm). */
    static PublicKey requireEd25519(PublicKey key) {
        if (key instanceof EdECKey edKey && ALGORITHM.equalsIgnoreCase(edKey.getParams().getName())) {
            return key;
        }
        throw new IllegalArgumentException("not an Ed25519 public key: " + (key == null ? null : key.getAlgorithm()));
    }

    static PublicKey fromSubjectPublicKeyInfo(byte[] der) {
        PublicKey key;
        try {
            key = KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der.clone()));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not an Ed25519 SubjectPublicKeyInfo", e);
        }
        requireEd25519(key);
        // The key id hashes the encoding, so only the one DER encoding of a key is accepted.
        if (!Arrays.equals(key.getEncoded(), der)) {
            throw new IllegalArgumentException("not the DER encoding of an Ed25519 SubjectPublicKeyInfo");
        }
        return key;
    }

    static PublicKey fromPem(String pem) {
        String text = pem.strip();
        if (!text.startsWith(PEM_BEGIN) || !text.endsWith(PEM_END)
                || text.indexOf(PEM_BEGIN, 1) >= 0 || text.indexOf(PEM_END) != text.length() - PEM_END.length()) {
            throw new IllegalArgumentException("not one PEM \"PUBLIC KEY\" block");
        }
        String body = text.substring(PEM_BEGIN.length(), text.length() - PEM_END.length())
                .replaceAll("[ \\t\\r\\n]", "");
        byte[] der;
        try {
            // The basic decoder, not the MIME one, so that stray characters are refused, not skipped.
            der = Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the PEM block is not valid base64", e);
        }
        return fromSubjectPublicKeyInfo(der);
    }

    static String toPem(PublicKey key) {
        return PEM_BEGIN + "\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getEncoded()) + "\n"
                + PEM_END + "\n";
    }

    /** Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER. */
    static String keyId(PublicKey key) {
        return HexFormat.of().formatHex(Sha256.hash(key.getEncoded()));
    }
}
