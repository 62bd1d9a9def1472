package health.carapace.audit.internal;

import health.carapace.audit.AuditExporter;
import health.carapace.audit.AuditQueries;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditVerifier;
import health.carapace.crypto.RecordCipher;
import health.carapace.crypto.SystemSecrets;
import health.carapace.verify.Ed25519TreeHeadSigner;
import java.nio.file.Path;
import java.time.Duration;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

@Configuration(proxyBeanMethods = false)
class AuditConfiguration {

    @Bean
    AuditLog auditLog(DataSource dataSource) {
        return new AuditLog(dataSource);
    }

    @Bean(destroyMethod = "close")
    GroupCommitAppender groupCommitAppender(AuditLog auditLog, PlatformTransactionManager transactionManager,
            @Value("${carapace.audit.max-batch}") int maxBatch,
            @Value("${carapace.audit.commit-timeout}") Duration timeout) {
        return new GroupCommitAppender(auditLog, new TransactionTemplate(transactionManager), maxBatch, timeout);
    }

    @Bean
    AuditTrail auditTrail(GroupCommitAppender appender, AuditLog auditLog, RecordCipher cipher) {
        return new DurableAuditTrail(appender, auditLog, cipher);
    }

    @Bean
    Ed25519TreeHeadSigner treeHeadSigner(SystemSecrets secrets) {
        return AuditSigningKey.load(secrets);
    }

    @Bean
    WitnessDirectory witnessDirectory(@Value("${carapace.audit.witness-dir}") Path directory) {
        return new WitnessDirectory(directory);
    }

    @Bean
    TreeSealer treeSealer(DataSource dataSource, PlatformTransactionManager transactionManager,
            Ed25519TreeHeadSigner signer, @Value("${carapace.audit.max-leaves-per-seal}") int maxLeaves) {
        return new TreeSealer(dataSource, new TransactionTemplate(transactionManager), signer, maxLeaves);
    }

    @Bean
    AuditVerifier auditVerifier(DataSource dataSource, PlatformTransactionManager transactionManager,
            Ed25519TreeHeadSigner signer, WitnessDirectory witness, java.time.Clock clock) {
        // Each run is recorded, so that the compliance report reads the last result (issue #19).
        return new RecordedAuditVerifier(new DatabaseAuditVerifier(dataSource, new TransactionTemplate(transactionManager),
                signer.verifier(), witness), dataSource, clock);
    }

    @Bean
    AuditQueries auditQueries(DataSource dataSource, RecordCipher cipher) {
        return new StoredEventQueries(dataSource, cipher);
    }

    @Bean
    health.carapace.audit.AuditFeed auditFeed(DataSource dataSource) {
        return new SealedEventFeed(dataSource);
    }

    @Bean
    AuditExporter auditExporter(DataSource dataSource, Ed25519TreeHeadSigner signer, AuditTrail audit) {
        return new BundleExporter(dataSource, signer, audit);
    }

    @Bean
    @ConditionalOnExpression("!'${carapace.audit.kafka.bootstrap-servers:}'.isBlank()")
    KafkaRelay kafkaRelay(DataSource dataSource, PlatformTransactionManager transactionManager,
            @Value("${carapace.audit.kafka.bootstrap-servers}") String bootstrapServers,
            @Value("${carapace.audit.kafka.topic}") String topic) {
        return new KafkaRelay(JdbcClient.create(dataSource), new TransactionTemplate(transactionManager),
                bootstrapServers, topic, 1000);
    }

    @Bean
    @ConditionalOnWebApplication
    AuditBackground auditBackground(TreeSealer sealer, WitnessDirectory witness, ObjectProvider<KafkaRelay> relay,
            @Value("${carapace.audit.kafka.tree-head-topic}") String treeHeadTopic,
            @Value("${carapace.audit.seal-interval}") Duration interval) {
        return new AuditBackground(sealer, witness, relay.getIfAvailable(), treeHeadTopic, interval);
    }
}
