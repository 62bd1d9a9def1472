package health.carapace.verify;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * A signed compliance report file: one header line, then the report exactly as signed.
 *
 * <pre>
 * {"format":"carapace-signed-report/1","algorithm":"Ed25519","keyId":"HEX","signature":"BASE64"}\n
 * REPORT BYTES (UTF-8 JSON)
 * </pre>
 *
 * The signature is Ed25519 over {@code "carapace-compliance-report/1\n"} followed by the report
 * bytes: the prefix keeps a report signature from ever being mistaken for a tree-head signature
 * (which has its own encoding) even if one key signed both. The report stays readable in the
 * file, and the bytes verified are the bytes stored: no canonicalisation step to get wrong. Any
 * change after the header line, a byte or a trailing newline, fails verification.
 */
public final class SignedReport {

    public static final String FORMAT = "carapace-signed-report/1";
    private static final byte[] DOMAIN = "carapace-compliance-report/1\n".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    /** A header line is short; a longer first line is not a signed report. */
    private static final int MAX_HEADER = 1024;

    /** A verified report: its key id and the report bytes, which may now be trusted. */
    public record Verified(String keyId, byte[] report) {
        public Verified {
            report = report.clone();
        }

        @Override
        public byte[] report() {
            return report.clone();
        }

        public String reportText() {
            return new String(report, StandardCharsets.UTF_8);
        }
    }

    private SignedReport() {
    }

    /** Signs {@code report} (UTF-8 JSON) and returns the whole file. */
    public static byte[] sign(KeyPair keyPair, byte[] report) {
        Objects.requireNonNull(report, "report");
        PublicKey publicKey = Ed25519Keys.requireEd25519(keyPair.getPublic());
        byte[] signature;
        try {
            Signature signer = Signature.getInstance(Ed25519Keys.ALGORITHM);
            signer.initSign(keyPair.getPrivate());
            signer.update(DOMAIN);
            signer.update(report);
            signature = signer.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Cannot sign the report with Ed25519", e);
        }
        var header = JSON.createObjectNode()
                .put("format", FORMAT)
                .put("algorithm", Ed25519Keys.ALGORITHM)
                .put("keyId", Ed25519Keys.keyId(publicKey))
                .put("signature", Base64.getEncoder().encodeToString(signature));
        byte[] headerBytes = (JSON.writeValueAsString(header) + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] file = Arrays.copyOf(headerBytes, headerBytes.length + report.length);
        System.arraycopy(report, 0, file, headerBytes.length, report.length);
        return file;
    }

    /**
     * Verifies a signed report file against the key the auditor trusts.
     *
     * @throws VerificationException if the file is not a signed report, names another key, or
     *     its signature does not verify over the bytes that follow the header
     */
    public static Verified verify(byte[] file, PublicKey trusted) throws VerificationException {
        Objects.requireNonNull(file, "file");
        PublicKey key = Ed25519Keys.requireEd25519(trusted);
        int newline = -1;
        for (int i = 0; i < Math.min(file.length, MAX_HEADER); i++) {
            if (file[i] == '\n') {
                newline = i;
                break;
            }
        }
        if (newline < 0) {
            throw new VerificationException("not a signed report: no header line");
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(file, 0, newline, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new VerificationException("not a signed report: the header line is not JSON");
        }
        if (header == null || !header.isObject() || !FORMAT.equals(text(header, "format"))
                || !Ed25519Keys.ALGORITHM.equals(text(header, "algorithm"))) {
            throw new VerificationException("not a signed report: unknown format or algorithm");
        }
        String keyId = Ed25519Keys.keyId(key);
        if (!keyId.equals(text(header, "keyId"))) {
            throw new VerificationException("the report is signed by key " + safeHex(text(header, "keyId"))
                    + ", not by the trusted key " + keyId);
        }
        byte[] signature;
        try {
            signature = Base64.getDecoder().decode(String.valueOf(text(header, "signature")));
        } catch (IllegalArgumentException e) {
            throw new VerificationException("the signature is not valid base64");
        }
        byte[] report = Arrays.copyOfRange(file, newline + 1, file.length);
        boolean ok;
        try {
            Signature verifier = Signature.getInstance(Ed25519Keys.ALGORITHM);
            verifier.initVerify(key);
            verifier.update(DOMAIN);
            verifier.update(report);
            ok = verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            ok = false;
        }
        if (!ok) {
            throw new VerificationException("the signature does not verify: the report was changed after it was signed,"
                    + " or was not signed by this key");
        }
        return new Verified(keyId, report);
    }

    /** The trusted key from one PEM block (as {@code compliance public-key} prints it). */
    public static PublicKey publicKeyFromPem(String pem) {
        return Ed25519Keys.fromPem(pem);
    }

    /** The PEM block of a key pair's public half. */
    public static String publicKeyPem(KeyPair keyPair) {
        return Ed25519Keys.toPem(Ed25519Keys.requireEd25519(keyPair.getPublic()));
    }

    public static String keyId(PublicKey key) {
        return Ed25519Keys.keyId(Ed25519Keys.requireEd25519(key));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || !value.isString() ? null : value.asString();
    }

    /** Only hex from the file reaches the message. */
    private static String safeHex(String value) {
        return value != null && value.matches("[0-9a-f]{64}") ? value : "(not a key id)";
    }
}
