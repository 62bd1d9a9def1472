/**
 * Disposal of records past retention by crypto-shredding, under dual control
 * (docs/adr/0011-crypto-shredding.md). Public API: {@link health.carapace.disposal.Shredding}.
 */
package health.carapace.disposal;
