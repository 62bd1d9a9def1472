package health.carapace.crypto;

/**
 * Blind-index tokens for exact-match search over encrypted fields (after CipherSweet): a keyed
 * HMAC-SHA256 of the normalised value, with a separate key per index derived from the index
 * root key, truncated to a few bits so that every token matches several rows. Callers must
 * decrypt the candidates and drop false positives.
 */
public interface BlindIndex {

    /**
     * @param index name of the index; each name gets its own derived key
     * @param normalisedValue the value after the index's normalisation
     * @param bits how many bits of the HMAC to keep (1..32)
     * @return the token, in the low {@code bits} bits
     */
    default int token(String index, String normalisedValue, int bits) {
        return token(activeVersion(), index, normalisedValue, bits);
    }

    /** The same, under a given version of the index root key. */
    int token(int keyVersion, String index, String normalisedValue, int bits);

    /** The index root key version that new tokens must use. */
    int activeVersion();

    /**
     * Versions whose tokens may still be stored, active first: more than one only while a re-index
     * job moves the index to a new root key, during which a search asks for every version's tokens.
     */
    java.util.List<Integer> searchableVersions();
}
