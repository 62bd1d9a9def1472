package health.carapace.testing.boundaries.reachinginside.orders;

import health.carapace.testing.boundaries.reachinginside.billing.internal.Ledger;

/** Declares billing, but reaches past its API into its internals. */
public class Checkout {

    public void pay(Ledger ledger) {
        ledger.post(100);
    }
}
