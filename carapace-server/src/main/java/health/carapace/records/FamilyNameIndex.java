package health.carapace.records;

import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * A family name as the {@code Patient.family} blind index sees it, for the {@code same-family-name}
 * detector (docs/INCIDENTS.md): the same normalisation, the same derived index key and the same
 * truncation as the patients' own tokens, so that a user's family name can be compared with a
 * patient's without anyone decrypting a name. A token covers every name that starts with the same
 * three letters (and, by design, a few others): a match is a reason to look, not a proof.
 */
public interface FamilyNameIndex {

    /** One family-name token under one version of the index root key. */
    record Token(int keyVersion, int value) {}

    /**
     * The token of {@code familyName} under the active index key version, or empty when the name
     * is too short to be indexed (fewer than three letters). The name is not kept.
     */
    java.util.Optional<Token> tokenOf(String familyName);

    /** The family-name tokens stored for these patients (a patient without a family name has none). */
    Map<Compartment, Set<Token>> tokensOf(Collection<Compartment> patients);
}
