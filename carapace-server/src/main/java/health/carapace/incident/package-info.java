/**
 * Breach response (docs/INCIDENTS.md, ADR 0020): detectors over the sealed audit trail, incidents
 * holding references only (never PHI) with their response and HIPAA clocks, and the operator's
 * view of them ({@code /admin/incidents}, {@code ./carapace incident ...}, metrics).
 *
 * <p>Public API: {@link health.carapace.incident.Incidents} and its value types. Everything else
 * is in {@code internal}. The detectors read the audit trail through the audit module's
 * {@link health.carapace.audit.AuditFeed}; they never name an audit table.
 */
@org.springframework.modulith.ApplicationModule(
        allowedDependencies = {"access", "audit", "compliance", "crypto", "signin", "platform :: config", "platform :: logging",
                "platform :: metrics", "platform :: web", "records", "verify"})
package health.carapace.incident;
