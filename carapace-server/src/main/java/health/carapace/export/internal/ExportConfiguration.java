package health.carapace.export.internal;

import health.carapace.access.ClientAddress;
import health.carapace.access.RoleCatalog;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.platform.web.PublicBaseUrl;
import health.carapace.records.RecordExport;
import health.carapace.signin.ServiceClients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Bulk export: its settings, job store, keys, files, worker and routes. */
@Configuration(proxyBeanMethods = false)
class ExportConfiguration {

    @Bean
    ExportJobs exportJobs(DataSource dataSource) {
        return new ExportJobs(dataSource);
    }

    /** Crypto-shredding a patient fails the exports that may hold their records (review F5 rest). */
    @Bean
    ApplicationListener<org.springframework.context.PayloadApplicationEvent<health.carapace.disposal.PatientShredded>>
            exportsForgetShreddedPatients(ExportJobs jobs) {
        return ApplicationListener.forPayload(shredded -> jobs.failHoldingAnyPatient());
    }

    @Bean
    ExportKeys exportKeys(KeyEncryptionKey kek) {
        return new ExportKeys(kek);
    }

    /** Null when {@code carapace.export.directory} is not set: exports are then refused (503), never written elsewhere. */
    @Bean
    ExportFilesHolder exportFiles(@Value("${carapace.export.directory:}") String directory) throws java.io.IOException {
        if (directory.isBlank()) {
            return new ExportFilesHolder(null);
        }
        Path path = Path.of(directory);
        Files.createDirectories(path);
        return new ExportFilesHolder(new ExportFiles(path));
    }

    record ExportFilesHolder(ExportFiles files) {}

    @Bean
    GroupMembership groupMembership(RecordExport records, health.carapace.access.RecordAccess access,
            health.carapace.audit.AuditTrail audit, RoleCatalog catalog) {
        return new GroupMembership(records, access, audit, catalog.resourceTypes());
    }

    @Bean(destroyMethod = "stop")
    ExportWorker exportWorker(ExportJobs jobs, ExportKeys keys, RecordExport records, ServiceClients clients,
            ExportFilesHolder files, Clock clock, @Value("${carapace.export.expiry:PT24H}") Duration expiry,
            GroupMembership groups) {
        if (expiry.isNegative() || expiry.isZero()) {
            throw new IllegalStateException("carapace.export.expiry must be positive");
        }
        return new ExportWorker(jobs, keys, records, clients, files.files(), clock, expiry, groups);
    }

    @Bean
    @ConditionalOnWebApplication
    ApplicationListener<ApplicationReadyEvent> exportWorkerStart(ExportWorker worker, ExportFilesHolder files,
            @Value("${carapace.export.poll-interval:PT1S}") Duration poll) {
        return event -> {
            if (files.files() != null) {
                worker.start(poll);
            }
        };
    }

    @Bean
    @ConditionalOnWebApplication
    FilterRegistrationBean<ExportEndpoints> exportEndpoints(ExportJobs jobs, ExportKeys keys, ExportFilesHolder files,
            ClientAddress addresses, PublicBaseUrl baseUrl, Clock clock, RoleCatalog catalog,
            @Value("${carapace.export.retry-after:PT2S}") Duration retryAfter,
            health.carapace.access.RecordAccess access, health.carapace.audit.AuditTrail audit, RecordExport records) {
        // After Spring Security (the caller is resolved), before the FHIR servlet (which owns /fhir/*).
        var registration = new FilterRegistrationBean<>(new ExportEndpoints(jobs, keys, files.files(), addresses, baseUrl,
                clock, catalog.resourceTypes(), Math.max(1, retryAfter.toSeconds()), access, audit, records));
        registration.addUrlPatterns("/fhir/*", "/export/*");
        return registration;
    }
}
