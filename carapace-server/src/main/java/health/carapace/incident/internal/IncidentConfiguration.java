package health.carapace.incident.internal;

import health.carapace.access.Caller;
import health.carapace.access.CareRelationships;
import health.carapace.audit.AuditFeed;
import health.carapace.audit.AuditTrail;
import health.carapace.signin.Users;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

@Configuration(proxyBeanMethods = false)
class IncidentConfiguration {

    @Bean
    IncidentSettings incidentSettings(Environment environment) {
        return IncidentSettings.from(environment);
    }

    @Bean
    AlertOutbox alertOutbox(DataSource dataSource, AlertSettings settings) {
        return new AlertOutbox(dataSource, settings, AlertOutbox.QUEUE);
    }

    @Bean
    IncidentStore incidentStore(DataSource dataSource, PlatformTransactionManager transactionManager, AuditTrail audit,
            Clock clock, IncidentSettings settings, AlertOutbox outbox) {
        return new IncidentStore(dataSource, new TransactionTemplate(transactionManager), audit, clock,
                settings.dedupWindow(), outbox);
    }

    @Bean
    PrivacyRegister privacyRegister(DataSource dataSource, PlatformTransactionManager transactionManager,
            AuditTrail audit, Clock clock) {
        return new PrivacyRegister(dataSource, new TransactionTemplate(transactionManager), audit, clock);
    }

    @Bean
    @ConditionalOnWebApplication
    IncidentMetrics incidentMetrics(DataSource dataSource, AuditFeed feed, Clock clock) {
        return new IncidentMetrics(dataSource, feed, clock);
    }

    @Bean
    health.carapace.compliance.ComplianceCheck incidentProceduresCheck(DataSource dataSource, AuditFeed feed) {
        return new IncidentProceduresCheck(dataSource, feed);
    }

    @Bean
    AlertSettings alertSettings(Environment environment) {
        return AlertSettings.from(environment);
    }

    @Bean
    @ConditionalOnWebApplication
    AlertSender alertSender(DataSource dataSource, PlatformTransactionManager transactionManager, AlertSettings settings,
            IncidentStore store, Clock clock,
            @org.springframework.beans.factory.annotation.Value("${carapace.public-base-url}") String publicBaseUrl) {
        // one attempt per call: the outbox retries, with back-off, across restarts
        WebhookAlerts webhooks = settings.webhookSecret() == null ? null
                : new WebhookAlerts(settings.sslContext(), settings.webhookSecret(), clock, 1, java.time.Duration.ZERO);
        MailAlerts mail = settings.mail() ? new MailAlerts(settings) : null;
        return new AlertSender(dataSource, new TransactionTemplate(transactionManager), settings, store, webhooks, mail,
                publicBaseUrl, AlertOutbox.QUEUE, clock);
    }

    @Bean
    @ConditionalOnWebApplication
    IncidentAlerts incidentAlerts(DataSource dataSource, PlatformTransactionManager transactionManager,
            AlertSettings settings, IncidentStore store, AlertOutbox outbox, AlertSender sender, IncidentMetrics metrics,
            Clock clock) {
        OverdueClocks overdue = new OverdueClocks(dataSource, new TransactionTemplate(transactionManager), store, outbox,
                clock, settings.outbox().overdueCatchUp(), settings.escalateAfter());
        return new IncidentAlerts(settings, store, overdue, sender, metrics::overdueRaised);
    }

    @Bean
    IncidentContainment incidentContainment(DataSource dataSource, PlatformTransactionManager transactionManager,
            IncidentStore store, Users users, health.carapace.signin.ServiceClients clients,
            health.carapace.access.RoleCatalog roles,
            org.springframework.beans.factory.ObjectProvider<ContainmentState> state,
            org.springframework.beans.factory.ObjectProvider<IncidentMetrics> metrics, Clock clock, AuditTrail audit) {
        return new IncidentContainment(dataSource, new TransactionTemplate(transactionManager), store, users, clients,
                roles, state, metrics, clock, audit);
    }

    /** Roles suspended by containment, for the access decision on every request (fail closed: see ContainmentState). */
    @Bean
    @ConditionalOnWebApplication
    health.carapace.access.SuspendedRoles suspendedRoles(ContainmentState state) {
        return role -> state.current().suspendedRoles().contains(role);
    }

    @Bean
    AutoContainment autoContainment(IncidentSettings settings, IncidentContainment containment) {
        return new AutoContainment(settings.autoContain(), containment);
    }

    @Bean
    @ConditionalOnWebApplication
    ContainmentState containmentState(DataSource dataSource) {
        return new ContainmentState(dataSource);
    }

    @Bean
    @ConditionalOnWebApplication
    org.springframework.boot.web.servlet.FilterRegistrationBean<ContainmentFilters.Blocks> containmentBlocks(
            ContainmentState state, AuditTrail audit) {
        var registration = new org.springframework.boot.web.servlet.FilterRegistrationBean<>(
                new ContainmentFilters.Blocks(state, audit));
        registration.setOrder(health.carapace.platform.web.FilterOrder.CONTAINMENT_BLOCKS);
        return registration;
    }

    @Bean
    @ConditionalOnWebApplication
    org.springframework.boot.web.servlet.FilterRegistrationBean<ContainmentFilters.Lockdown> containmentLockdown(
            ContainmentState state, AuditTrail audit) {
        var registration = new org.springframework.boot.web.servlet.FilterRegistrationBean<>(
                new ContainmentFilters.Lockdown(state, audit));
        registration.setOrder(health.carapace.platform.web.FilterOrder.CONTAINMENT_LOCKDOWN);
        return registration;
    }

    @Bean
    @ConditionalOnWebApplication
    DetectorRunner detectorRunner(DataSource dataSource, PlatformTransactionManager transactionManager, AuditFeed feed,
            IncidentStore store, PrivacyRegister register, CareRelationships relationships, Users users,
            IncidentSettings settings, IncidentMetrics metrics, IncidentAlerts alerts,
            health.carapace.records.FamilyNameIndex familyNames, health.carapace.audit.AuditIntegrity auditIntegrity,
            AutoContainment autoContainment, Clock clock) {
        AtomicReference<PrivacyRegister.Snapshot> snapshot = new AtomicReference<>(PrivacyRegister.Snapshot.empty());
        // practitioner ids of people, read once per batch and only when a flagged patient was opened
        AtomicReference<Map<String, String>> practitioners = new AtomicReference<>();
        java.util.function.Function<String, Caller> callers = principal -> {
            if (principal.startsWith("svc-")) {
                return new Caller(principal, Caller.Kind.SERVICE_CLIENT, Set.of(), null);
            }
            Map<String, String> known = practitioners.get();
            if (known == null) {
                known = new HashMap<>();
                for (Users.Summary user : users.list()) {
                    if (user.practitionerId() != null) {
                        known.put(user.userName().toLowerCase(Locale.ROOT), user.practitionerId());
                    }
                }
                practitioners.set(known);
            }
            return new Caller(principal, Caller.Kind.USER, Set.of(), known.get(principal.toLowerCase(Locale.ROOT)));
        };
        List<Detector> detectors = List.of(
                new SelfAccessDetector(snapshot::get),
                new SameFamilyNameDetector(snapshot::get, familyNames),
                new FlaggedPatientDetector(snapshot::get, relationships, callers),
                new VolumeDetector(dataSource, settings),
                new UnusualHoursDetector(dataSource, settings),
                new RepeatedDenialsDetector(settings),
                new CredentialAttackDetector(settings),
                new BulkReadDetector(settings));
        DetectorRunner runner = new DetectorRunner(dataSource, new TransactionTemplate(transactionManager), feed,
                detectors, store, () -> {
                    snapshot.set(register.snapshot());
                    practitioners.set(null);
                }, opened -> {
                    metrics.opened(opened);
                    alerts.opened(opened);
                    autoContainment.opened(opened);
                }, settings);
        runner.watch(new AuditIntegrityWatch(auditIntegrity, settings.auditSealerStall(), settings.auditWitnessGrace()),
                settings.auditCheckInterval(), clock);
        return runner;
    }
}
