package health.carapace.platform.config;

import java.util.Objects;

/**
 * One algorithm the server uses, as reported by the module that uses it: names only, never key
 * material. {@link AlgorithmHygiene} logs every use at startup and refuses weak ones.
 *
 * @param component what uses it, e.g. {@code record data keys} or {@code TLS}
 * @param kind what the algorithm does, which decides the rules it is judged by
 * @param algorithm canonical name: {@code AES-GCM}, {@code ChaCha20-Poly1305}, {@code HMAC-SHA256},
 *     {@code HKDF-SHA256}, {@code Ed25519}, {@code ECDSA-P256-SHA256}, {@code RSA-SHA256},
 *     {@code RSA-PSS-SHA256}, {@code SHA-256}, {@code Argon2id}, {@code TLSv1.3}, or an IANA TLS
 *     cipher-suite name
 * @param bits key size in bits, or 0 where the algorithm fixes it or it does not apply
 * @param detail free-form parameters for the log (never judged), e.g. Argon2 cost settings
 */
public record AlgorithmUse(String component, Kind kind, String algorithm, int bits, String detail) {

    public enum Kind {
        /** Authenticated encryption of data (records, audit queries). */
        AEAD,
        /** Encryption of keys by the KEK. */
        KEY_WRAP,
        MAC,
        KDF,
        /** A signing key: its algorithm and size. */
        SIGNATURE,
        /** The signature on a certificate (made by its issuer): only the hash is judged. */
        CERTIFICATE_SIGNATURE,
        DIGEST,
        PASSWORD_HASH,
        TLS_PROTOCOL,
        TLS_CIPHER_SUITE
    }

    public AlgorithmUse {
        Objects.requireNonNull(component, "component");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(algorithm, "algorithm");
        detail = detail == null ? "" : detail;
    }

    public static AlgorithmUse of(String component, Kind kind, String algorithm, int bits) {
        return new AlgorithmUse(component, kind, algorithm, bits, "");
    }

    @Override
    public String toString() {
        return component + ": " + kind + " " + algorithm + (bits > 0 ? " (" + bits + "-bit)" : "")
                + (detail.isEmpty() ? "" : " [" + detail + "]");
    }
}
