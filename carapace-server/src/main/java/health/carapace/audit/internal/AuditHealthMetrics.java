package health.carapace.audit.internal;

import health.carapace.platform.metrics.RefreshedOnScrape;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.stereotype.Component;

/**
 * Audit-trail health as gauges beside the key metrics at {@code /admin/metrics}: unsealed events
 * ({@code carapace_audit_unsealed_events}), the oldest one's age ({@code carapace_audit_seal_lag_seconds}),
 * the relay's lag in leaves ({@code carapace_audit_relay_lag_leaves}, -1 without Kafka), the age of
 * the last full verification ({@code carapace_audit_verification_age_seconds}, -1 if never) and its
 * result ({@code carapace_audit_verification_ok}). No tags, no identifiers. Refreshed before each scrape.
 */
@Component
@ConditionalOnWebApplication
class AuditHealthMetrics implements MeterBinder, RefreshedOnScrape {

    private record Values(double unsealed, double sealLag, double relayLag, double verificationAge,
            double verificationOk) {}

    private final AuditHealth health;
    private final Clock clock;
    private final AtomicReference<Values> values = new AtomicReference<>(new Values(0, 0, -1, -1, 0));

    AuditHealthMetrics(AuditHealth health, Clock clock) {
        this.health = health;
        this.clock = clock;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("carapace.audit.unsealed.events", values, v -> v.get().unsealed())
                .description("Audit events committed but not yet sealed into a signed tree head").register(registry);
        Gauge.builder("carapace.audit.seal.lag.seconds", values, v -> v.get().sealLag())
                .description("Age of the oldest unsealed audit event").register(registry);
        Gauge.builder("carapace.audit.relay.lag.leaves", values, v -> v.get().relayLag())
                .description("Sealed audit leaves not yet delivered to Kafka (-1: no relay configured)")
                .register(registry);
        Gauge.builder("carapace.audit.verification.age.seconds", values, v -> v.get().verificationAge())
                .description("Age of the last full audit verification (-1: never verified)").register(registry);
        Gauge.builder("carapace.audit.verification.ok", values, v -> v.get().verificationOk())
                .description("1 if the last full audit verification passed").register(registry);
    }

    @Override
    public void refreshBeforeScrape() {
        AuditHealth.Snapshot snapshot = health.snapshot();
        Instant now = clock.instant();
        values.set(new Values(snapshot.unsealed(), snapshot.sealLag(now).toMillis() / 1000.0,
                snapshot.relayLag().orElse(-1L),
                snapshot.lastVerification().map(v -> Duration.between(v.finishedAt(), now).toMillis() / 1000.0)
                        .orElse(-1.0),
                snapshot.lastVerification().map(v -> v.ok() ? 1.0 : 0.0).orElse(0.0)));
    }
}
