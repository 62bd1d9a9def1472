package health.carapace.incident.internal;

import health.carapace.audit.AuditExporter;
import health.carapace.audit.AuditTrail;
import health.carapace.crypto.SystemSecrets;
import health.carapace.platform.config.Mode;
import java.nio.file.Path;
import java.time.Clock;
import javax.sql.DataSource;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** Evidence bundles (ADR 0028): the keys, the bundle maker, the scratch directory. */
@Configuration(proxyBeanMethods = false)
class EvidenceConfiguration {

    static final String SCRATCH_PROPERTY = "carapace.incident.evidence.scratch-dir";

    @Bean
    @org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication
    ServingNodePidFile servingNodePidFile(ConfigurableEnvironment environment) {
        String configured = environment.getProperty(health.carapace.incident.ServingNode.PID_FILE_PROPERTY);
        return new ServingNodePidFile(configured == null || configured.isBlank() ? null : Path.of(configured));
    }

    @Bean
    EvidenceKeys evidenceKeys(ConfigurableEnvironment environment, SystemSecrets secrets) {
        Mode mode = "dev".equals(environment.getProperty("carapace.mode")) ? Mode.DEV : Mode.PROD;
        return EvidenceKeys.load(environment.getProperty(EvidenceKeys.PUBLIC_KEY_PROPERTY), mode, secrets);
    }

    @Bean
    EvidenceEndpoint.EvidenceScratch evidenceScratch(ConfigurableEnvironment environment) {
        String configured = environment.getProperty(SCRATCH_PROPERTY);
        Path root = configured == null || configured.isBlank()
                ? Path.of(System.getProperty("java.io.tmpdir")) : Path.of(configured);
        EvidenceScratchSweep.sweep(root, java.time.Instant.now());
        return new EvidenceEndpoint.EvidenceScratch(root);
    }

    @Bean
    IncidentEvidence incidentEvidence(DataSource dataSource, PlatformTransactionManager transactionManager,
            IncidentStore store, AuditExporter exporter, AuditTrail audit, EvidenceKeys keys,
            ConfigurableEnvironment environment, Clock clock, EvidenceEndpoint.EvidenceScratch scratch) {
        return new IncidentEvidence(dataSource, new TransactionTemplate(transactionManager), store, exporter, audit, keys,
                environment, clock, scratch.root());
    }
}
