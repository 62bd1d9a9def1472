package health.carapace.audit.internal;

import health.carapace.audit.AuditTrail;
import health.carapace.crypto.RecordCipher;
import java.time.Duration;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
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
}
