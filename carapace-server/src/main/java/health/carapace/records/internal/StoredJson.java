package health.carapace.records.internal;

import java.util.Arrays;

/**
 * What a version's ciphertext holds: the JSON of the resource as stored (id and meta included),
 * preceded by a small header sealed with it that says whether the resource holds an SSN, so a
 * read can send the stored bytes unchanged to a caller without {@code view:ssn} when there is
 * nothing to mask. The header is inside the encryption: the database learns nothing from it.
 *
 * <p>Layout: {@code 0x01}, the {@link SsnRule#VERSION} that judged the resource, flags (bit 0:
 * holds an SSN), then the JSON. Versions written before the header start with {@code '{'}; for
 * them, and for any judged by another version of the rule, whether an SSN is held is unknown, and
 * the read parses and masks as before. Anything else is refused: a read never guesses.
 */
record StoredJson(byte[] json, Ssn ssn) {

    /** Whether the stored resource holds an SSN, as far as the header tells. */
    enum Ssn {
        ABSENT, PRESENT, UNKNOWN
    }

    private static final byte HEADER = 0x01;
    private static final int HEADER_LENGTH = 3;
    private static final byte HOLDS_SSN = 0x01;

    static byte[] frame(byte[] json, boolean holdsSsn) {
        byte[] plaintext = new byte[HEADER_LENGTH + json.length];
        plaintext[0] = HEADER;
        plaintext[1] = SsnRule.VERSION;
        plaintext[2] = holdsSsn ? HOLDS_SSN : 0;
        System.arraycopy(json, 0, plaintext, HEADER_LENGTH, json.length);
        return plaintext;
    }

    static StoredJson unframe(byte[] plaintext) {
        if (plaintext.length > 0 && plaintext[0] == '{') {
            return new StoredJson(plaintext, Ssn.UNKNOWN);
        }
        if (plaintext.length < HEADER_LENGTH || plaintext[0] != HEADER || (plaintext[2] & ~HOLDS_SSN) != 0) {
            throw new IllegalStateException("A stored record has an unknown layout");
        }
        byte[] json = Arrays.copyOfRange(plaintext, HEADER_LENGTH, plaintext.length);
        if (plaintext[1] != SsnRule.VERSION) {
            return new StoredJson(json, Ssn.UNKNOWN);
        }
        return new StoredJson(json, (plaintext[2] & HOLDS_SSN) != 0 ? Ssn.PRESENT : Ssn.ABSENT);
    }
}
