package health.carapace.crypto.internal;

/**
 * Who may send the HSM token a login, and how many refused ones are left (ADR 0049). A login with a
 * PIN the token refuses counts towards the token's lockout of the user PIN; the HSM counts every
 * node, restart and CLI command of the installation alike, so the budget must too
 * ({@link HsmLoginBudget}, in the keyring). {@link HsmSession} reserves before every login and
 * settles the reservation with its outcome.
 */
interface LoginBudget {

    /** The answer to a reservation. */
    enum Decision {
        /** Reserved: send the login, then settle with {@link #refused}, {@link #released} or {@link #succeeded}. */
        ALLOWED,
        /** A login was refused (or is under way) too recently: try again later, no login now. */
        WAIT,
        /** As many logins were refused as the installation allows: none until an operator resets the budget. */
        EXHAUSTED,
        /** The budget cannot be read: no login (fail closed). */
        UNREACHABLE
    }

    /** Reserves one login, checking and counting it in one step; see {@link Decision}. */
    Decision reserve();

    /**
     * The reserved login was refused for the PIN ({@code code}: the PKCS#11 return value's name): the
     * reservation stays counted. Returns the refused logins counted for the installation, or -1 if the
     * budget cannot be read now.
     */
    int refused(String code);

    /** The reserved login failed for another reason (device, network, session): it does not count. */
    void released();

    /** The reserved login succeeded: the token's own count starts again, and so does the budget. */
    void succeeded();

    /** The most refused logins allowed before an operator must reset the budget. */
    int attempts();
}
