package health.carapace.testing.boundaries.declared.orders;

import health.carapace.testing.boundaries.declared.billing.Invoices;

/** Uses billing's public API, as declared. */
public class Checkout {

    public void pay(Invoices invoices) {
        invoices.issue(100);
    }
}
