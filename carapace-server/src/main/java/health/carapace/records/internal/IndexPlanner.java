package health.carapace.records.internal;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * How many bits of each blind index to keep (after CipherSweet's planner). Fewer bits than
 * {@code log2(rows)} make every token match several rows, so the index alone cannot single a
 * patient out; small domains (3-letter prefixes, birth days) are cut further so that each token
 * also covers several possible values. Changing the population changes every token, so it is
 * fixed at installation (a re-index job comes with key rotation).
 */
@Component
class IndexPlanner {

    private final int base;

    IndexPlanner(@Value("${carapace.index.population}") long population) {
        int log2 = 63 - Long.numberOfLeadingZeros(Math.max(population, 2));
        this.base = Math.max(8, Math.min(24, log2 - 1));
    }

    int bits(String index) {
        if (index.endsWith(":prefix")) {
            return Math.min(base, 13);   // 26^3 ≈ 2^14 prefixes: ≥ 2 prefixes per token
        }
        if (index.endsWith(":day")) {
            return Math.min(base, 14);   // ~2^15 birth days in a century: ≥ 2 days per token
        }
        if (index.contains(".code")) {
            return Math.min(base, 16);
        }
        return base;
    }
}
