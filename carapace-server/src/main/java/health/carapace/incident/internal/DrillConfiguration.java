package health.carapace.incident.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import health.carapace.incident.Drills;
import health.carapace.signin.ServiceClients;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** Drills (docs/INCIDENTS.md "Drills"): the runner, the stale-drill metric and the compliance check. */
@Configuration(proxyBeanMethods = false)
class DrillConfiguration {

    @Bean
    DrillRunner drills(ServiceClients clients, PrivacyRegister register, IncidentStore store,
            IncidentContainment containment, IncidentSettings settings, DataSource dataSource, Clock clock) {
        return new DrillRunner(clients, register, store, containment, settings, dataSource, clock);
    }

    @Bean
    @ConditionalOnWebApplication
    DrillMetrics drillMetrics(Drills drills, Clock clock) {
        return new DrillMetrics(drills, clock);
    }

    @Bean
    ComplianceCheck incidentDrillsCheck(Drills drills) {
        return new DrillCheck(drills);
    }

    /**
     * {@code carapace_incident_drill_age_seconds} (since the last drill; -1 when none ran) and
     * {@code carapace_incident_drill_stale} (1 when the last drill is older than {@code drill.max-age}).
     */
    static final class DrillMetrics implements MeterBinder, health.carapace.platform.metrics.RefreshedOnScrape {
        private final Drills drills;
        private final Clock clock;
        private final AtomicReference<Drills.Report> report = new AtomicReference<>();

        DrillMetrics(Drills drills, Clock clock) {
            this.drills = drills;
            this.clock = clock;
        }

        @Override
        public void bindTo(MeterRegistry registry) {
            Gauge.builder("carapace.incident.drill.age.seconds", report, r -> {
                Drills.Report now = r.get();
                return now == null || now.lastDrill() == null ? -1
                        : Duration.between(now.lastDrill(), clock.instant()).toSeconds();
            }).description("Seconds since the last breach-response drill (-1: none ran)").register(registry);
            Gauge.builder("carapace.incident.drill.stale", report, r -> r.get() == null || r.get().stale() ? 1 : 0)
                    .description("1 when the last drill is older than carapace.incident.drill.max-age").register(registry);
        }

        @Override
        public void refreshBeforeScrape() {
            try {
                report.set(drills.report(clock.instant()));
            } catch (RuntimeException e) {
                // the last snapshot stays; the next scrape tries again
            }
        }
    }

    /** {@code incident.drills} (§164.308(a)(7)(ii)(D)): a breach-response drill ran within {@code drill.max-age}. */
    record DrillCheck(Drills drills) implements ComplianceCheck {
        @Override
        public String id() {
            return "incident.drills";
        }

        @Override
        public String title() {
            return "Incident response drills run at least every 92 days";
        }

        @Override
        public List<Rule> rules() {
            return List.of(Rule.TESTING_AND_REVISION);
        }

        @Override
        public CheckResult evaluate(Instant now) {
            Drills.Report report = drills.report(now);
            CheckResult.Evidence evidence = CheckResult.Evidence.of()
                    .with("last drill", report.lastDrill() == null ? "none" : report.lastDrill().toString())
                    .with("maximum age (days)", report.maxAge().toDays())
                    .with("scenarios drilled", report.trends().size());
            return CheckResult.passIf(!report.stale(), "no breach-response drill within the maximum age", evidence);
        }
    }
}
