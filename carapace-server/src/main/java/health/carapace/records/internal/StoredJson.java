package health.carapace.records.internal;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What a version's ciphertext holds: the JSON of the resource as stored (id and meta included),
 * preceded by a small header sealed with it that says whether the resource holds an SSN, so a
 * read can send the stored bytes unchanged to a caller without {@code view:ssn} when there is
 * nothing to mask. The header is inside the encryption: the database learns nothing from it.
 *
 * <p>Layout: {@code 0x02}, a four-byte {@link #JUDGE} fingerprint of what judged the resource,
 * flags (bit 0: holds an SSN), then the JSON. The verdict counts only if the fingerprint is the
 * current one: it covers {@link SsnRule#VERSION}, and the JDK feature release and HAPI version
 * whose Unicode tables and element walk the rule runs on, so an upgrade of either makes every
 * older verdict unknown. Versions written before the header start with {@code '{'}; versions of
 * the first header layout ({@code 0x01}: the rule version alone) are unknown too. For those
 * the read parses and masks as before. Anything else is refused: a read never guesses.
 */
record StoredJson(byte[] json, Ssn ssn) {

    /** Whether the stored resource holds an SSN, as far as the header tells. */
    enum Ssn {
        ABSENT, PRESENT, UNKNOWN
    }

    /** What judges a resource for SSNs here: the rule, the JDK feature release, the HAPI version. */
    static final int JUDGE = ("ssn-rule/" + SsnRule.VERSION + "/jdk-" + Runtime.version().feature() + "/hapi-"
            + ca.uhn.fhir.util.VersionUtil.getVersion()).hashCode();

    private static final byte FIRST_LAYOUT = 0x01;
    private static final int FIRST_LAYOUT_LENGTH = 3;
    private static final byte LAYOUT = 0x02;
    private static final int HEADER_LENGTH = 6;
    private static final byte HOLDS_SSN = 0x01;

    static byte[] frame(byte[] json, boolean holdsSsn) {
        return frame(json, holdsSsn, JUDGE);
    }

    static byte[] frame(byte[] json, boolean holdsSsn, int judge) {
        return ByteBuffer.allocate(HEADER_LENGTH + json.length).put(LAYOUT).putInt(judge)
                .put(holdsSsn ? HOLDS_SSN : 0).put(json).array();
    }

    static StoredJson unframe(byte[] plaintext) {
        if (plaintext.length > 0 && plaintext[0] == '{') {
            return new StoredJson(plaintext, Ssn.UNKNOWN);
        }
        if (plaintext.length >= FIRST_LAYOUT_LENGTH && plaintext[0] == FIRST_LAYOUT) {
            return new StoredJson(Arrays.copyOfRange(plaintext, FIRST_LAYOUT_LENGTH, plaintext.length), Ssn.UNKNOWN);
        }
        if (plaintext.length < HEADER_LENGTH || plaintext[0] != LAYOUT || (plaintext[5] & ~HOLDS_SSN) != 0) {
            throw new IllegalStateException("A stored record has an unknown layout");
        }
        byte[] json = Arrays.copyOfRange(plaintext, HEADER_LENGTH, plaintext.length);
        if (ByteBuffer.wrap(plaintext, 1, 4).getInt() != JUDGE) {
            return new StoredJson(json, Ssn.UNKNOWN);
        }
        return new StoredJson(json, (plaintext[5] & HOLDS_SSN) != 0 ? Ssn.PRESENT : Ssn.ABSENT);
    }
}
