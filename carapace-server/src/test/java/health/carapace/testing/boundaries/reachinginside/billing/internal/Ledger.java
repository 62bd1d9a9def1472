package health.carapace.testing.boundaries.reachinginside.billing.internal;

/** Billing's own bookkeeping: no other module may use it. */
public class Ledger {

    public void post(long cents) {
    }
}
