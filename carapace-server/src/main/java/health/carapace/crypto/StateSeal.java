package health.carapace.crypto;

import java.util.Optional;

/**
 * Seals short-lived, non-PHI state that the server hands to browsers or shares between its nodes
 * (the sign-in state: cookies, browser sessions, issued authorizations): AES-256-GCM under one
 * Tink keyset of the keyring, wrapped by the {@link KeyEncryptionKey} like the record keys. Every
 * sealed value starts with the id of the key that sealed it (Tink's 5-byte prefix), so that keys
 * can rotate: a new key seals, the keys it replaced still open until every value they sealed has
 * expired, then they are destroyed (ADR 0042). Encryptions are counted per key, as the record
 * keys' are ({@code keys status}, the AES-GCM warning).
 */
public interface StateSeal {

    /** Seals under the current key; {@code associatedData} names where the value belongs. */
    byte[] seal(byte[] plain, byte[] associatedData);

    /** Opens a value sealed here for {@code associatedData}, or says why it does not open. */
    Opening open(byte[] sealed, byte[] associatedData);

    /** Why a sealed value was refused. */
    enum Refusal {
        /** Its key id names no key of the keyset: made elsewhere, or under a key destroyed since (expired). */
        UNKNOWN_KEY,
        /** Under a known key, but altered, or sealed for another place. */
        NOT_AUTHENTIC
    }

    /** The plain bytes, or the refusal (exactly one of the two). */
    record Opening(byte[] plain, Refusal refusal) {

        public static Opening opened(byte[] plain) {
            return new Opening(plain, null);
        }

        public static Opening refused(Refusal refusal) {
            return new Opening(null, refusal);
        }

        public Optional<byte[]> value() {
            return Optional.ofNullable(plain);
        }
    }
}
