/**
 * Disposal of records past retention by crypto-shredding, under dual control
 * (docs/adr/0011-crypto-shredding.md). Public API: {@link health.carapace.disposal.Shredding}.
 */
@org.springframework.modulith.ApplicationModule(
        allowedDependencies = {"audit", "crypto", "platform :: logging", "platform :: web", "records"})
package health.carapace.disposal;
