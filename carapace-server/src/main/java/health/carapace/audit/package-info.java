/**
 * The audit trail: events, group-commit appends, Merkle sealing and signed tree heads, the
 * witness directory, the Kafka relay, verification, export and queries (docs/AUDIT.md).
 * Public API: {@link health.carapace.audit.AuditTrail} and the types around it.
 */
@org.springframework.modulith.ApplicationModule(
        allowedDependencies = {"compliance", "crypto", "platform :: config", "platform :: logging", "platform :: metrics",
                "verify"})
package health.carapace.audit;
