package health.carapace.testing.boundaries.undeclared.billing;

/** Billing's public API. */
public class Invoices {

    public void issue(long cents) {
    }
}
