/**
 * Compliance evidence: live checks mapped to HIPAA §164.308/§164.312 and the proposed Security
 * Rule (NPRM, 90 FR 898), signed append-only reports, the asset inventory, and the record of
 * vulnerability scans (docs/COMPLIANCE.md).
 *
 * <p>Public API: {@link health.carapace.compliance.ComplianceCheck} (what a module implements to
 * contribute a check about itself), {@link health.carapace.compliance.CheckResult},
 * {@link health.carapace.compliance.Rule}, {@link health.carapace.compliance.ReportSigningKey}
 * (the crypto module contributes the key) and {@link health.carapace.compliance.ComplianceReports}.
 * Modules depend on this one to contribute; it depends on none of them, so it knows no module's
 * settings (docs/adr/0019-compliance-evidence-by-contribution.md).
 */
@org.springframework.modulith.ApplicationModule(
        allowedDependencies = {"platform :: config", "platform :: logging", "platform :: web", "verify"})
package health.carapace.compliance;
