package health.carapace.platform.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The floor every algorithm must meet: AES-256-GCM (or ChaCha20-Poly1305) for encryption,
 * HMAC-SHA256 and HKDF-SHA256 or stronger, Ed25519 / ECDSA P-256+ / RSA of at least 3072 bits for
 * signatures, SHA-256 or stronger for digests, Argon2id for passwords, TLS 1.2 and 1.3 with AEAD
 * suites and forward secrecy only. An allowlist: anything not named here is refused, so a new
 * or unknown algorithm is refused until someone decides it is good enough (docs/adr/0011).
 */
public final class AlgorithmPolicy {

    /** The one-line statement of the floor, for refusals. */
    public static final String FLOOR = "nothing below AES-256-GCM, Ed25519 and HMAC-SHA256: no CBC, no SHA-1, "
            + "no RSA below 3072 bits, no TLS below 1.2";

    /**
     * TLS suites: TLS 1.3's AES-256-GCM and ChaCha20-Poly1305, and TLS 1.2's ECDHE suites with the
     * same two AEADs. AES-128-GCM is left out on purpose, to keep one symmetric floor (256-bit)
     * everywhere; every current TLS stack offers one of these (docs/adr/0011).
     */
    public static final List<String> TLS_CIPHER_SUITES = List.of(
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    public static final List<String> TLS_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    private static final Set<String> AEADS = Set.of("AES-GCM", "CHACHA20-POLY1305", "XCHACHA20-POLY1305");
    private static final Pattern SHA2_OR_3 = Pattern.compile("SHA-?(256|384|512)|SHA3-(256|384|512)");
    private static final Pattern ECDSA = Pattern.compile("ECDSA-P(256|384|521)(-SHA(256|384|512))?");
    private static final Pattern RSA = Pattern.compile("RSA(-PSS)?(-SHA(256|384|512))?");
    private static final Pattern CERT_SIGNATURE = Pattern.compile("(ECDSA|RSA|RSA-PSS)-SHA(256|384|512)|ED25519|ED448");
    // compiled once: every data keyset unwrapped (a key-cache miss, a new patient) is checked against the floor
    private static final Pattern HMAC = Pattern.compile("HMAC-SHA(256|384|512)");
    private static final Pattern HKDF = Pattern.compile("HKDF-SHA(256|384|512)");
    private static final Pattern SHA1 = Pattern.compile(".*SHA-?1(\\b|_|$|WITH).*");

    private AlgorithmPolicy() {
    }

    /** Every use below the floor, each with the reason. */
    public static List<String> problems(List<AlgorithmUse> uses) {
        List<String> problems = new ArrayList<>();
        for (AlgorithmUse use : uses) {
            refusal(use).ifPresent(reason -> problems.add(use + ": " + reason));
        }
        return problems;
    }

    /** Why {@code use} is below the floor, or empty if it is allowed. */
    public static Optional<String> refusal(AlgorithmUse use) {
        String name = use.algorithm().toUpperCase(Locale.ROOT);
        String general = generalRefusal(name);
        if (general != null) {
            return Optional.of(general);
        }
        return Optional.ofNullable(switch (use.kind()) {
            case AEAD, KEY_WRAP -> !AEADS.contains(name) ? "not an allowed AEAD (AES-256-GCM or ChaCha20-Poly1305)"
                    : name.equals("AES-GCM") && use.bits() < 256 ? "AES keys below 256 bits are refused"
                    : null;
            case MAC -> !HMAC.matcher(name).matches() ? "not an allowed MAC (HMAC-SHA256 or stronger)"
                    : use.bits() < 256 ? "MAC keys below 256 bits are refused" : null;
            case KDF -> !HKDF.matcher(name).matches() ? "not an allowed KDF (HKDF-SHA256 or stronger)"
                    : use.bits() < 256 ? "KDF keys below 256 bits are refused" : null;
            case SIGNATURE -> signatureRefusal(name, use.bits());
            case CERTIFICATE_SIGNATURE -> CERT_SIGNATURE.matcher(name).matches() ? null
                    : "not an allowed certificate signature (SHA-256 or stronger with ECDSA or RSA, or EdDSA)";
            case DIGEST -> SHA2_OR_3.matcher(name).matches() ? null : "not an allowed digest (SHA-256 or stronger)";
            case PASSWORD_HASH -> name.equals("ARGON2ID") ? null : "not an allowed password hash (Argon2id)";
            case TLS_PROTOCOL -> TLS_PROTOCOLS.contains(use.algorithm()) ? null
                    : "TLS protocol versions below 1.2 (and anything but TLSv1.2 and TLSv1.3) are refused";
            case TLS_CIPHER_SUITE -> TLS_CIPHER_SUITES.contains(use.algorithm()) ? null
                    : "not an allowed TLS cipher suite (AES-256-GCM or ChaCha20-Poly1305 with forward secrecy)";
        });
    }

    /** Refusals that hold whatever the kind, so that the message names the real problem. */
    private static String generalRefusal(String name) {
        if (name.contains("CBC")) {
            return "CBC mode is refused";
        }
        if (SHA1.matcher(name).matches() || name.contains("SHA1")) {
            return "SHA-1 is refused";
        }
        if (name.contains("MD5") || name.contains("RC4") || name.contains("3DES") || name.contains("DES_")
                || name.contains("NULL") || name.contains("EXPORT") || name.contains("ANON")) {
            return "a broken algorithm is refused";
        }
        return null;
    }

    private static String signatureRefusal(String name, int bits) {
        if (name.equals("ED25519") || name.equals("ED448") || ECDSA.matcher(name).matches()) {
            return null;
        }
        Matcher rsa = RSA.matcher(name);
        if (rsa.matches()) {
            return bits < 3072 ? "RSA keys below 3072 bits are refused" : null;
        }
        return "not an allowed signature algorithm (Ed25519, ECDSA P-256 or stronger, RSA of 3072 bits or more)";
    }
}
