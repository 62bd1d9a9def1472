package health.carapace.testing.boundaries.undeclared.orders;

import health.carapace.testing.boundaries.undeclared.billing.Invoices;

/** Uses billing's public API, but orders declares no dependency at all. */
public class Checkout {

    public void pay(Invoices invoices) {
        invoices.issue(100);
    }
}
