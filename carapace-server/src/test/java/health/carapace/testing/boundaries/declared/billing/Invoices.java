package health.carapace.testing.boundaries.declared.billing;

/** Billing's public API. */
public class Invoices {

    public void issue(long cents) {
    }
}
