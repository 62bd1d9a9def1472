package health.carapace.crypto;

import java.time.Duration;

/** The keyring's sealing keysets for short-lived state, by name ({@link StateSeal}, ADR 0042). */
public interface StateSeals {

    /**
     * The keyset named {@code name}, created on first use.
     *
     * @param name lower-case letters, digits and '-'
     * @param valuesLiveFor the longest any value sealed under it is used: a replaced key is kept
     *     (able to open, never to seal) this long after its successor began to seal, then destroyed
     */
    StateSeal named(String name, Duration valuesLiveFor);
}
