/**
 * Three tiny applications for {@code ModuleBoundariesTest}, each with modules {@code orders} and
 * {@code billing}: one where orders reaches into billing's {@code internal} package, one where
 * orders uses billing's API without declaring it, and one that declares it (the control: the
 * same shape passes when the rule is kept). Only tests import them; the server never sees them.
 */
package health.carapace.testing.boundaries;
