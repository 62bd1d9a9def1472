package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.IServerAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import health.carapace.access.BreakGlass;
import health.carapace.access.CareRelationships;
import health.carapace.access.ClientAddress;
import health.carapace.access.RecordAccess;
import health.carapace.audit.AuditQueries;
import health.carapace.audit.AuditTrail;
import health.carapace.crypto.BlindIndex;
import health.carapace.crypto.RecordCipher;
import health.carapace.platform.web.PublicBaseUrl;
import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** The HAPI FHIR plain server at {@code /fhir}, and the store and search behind it. */
@Configuration(proxyBeanMethods = false)
class FhirServerConfiguration {

    @Bean
    FhirContext fhirContext() {
        FhirContext fhir = FhirContext.forR4();
        // Strict: unknown elements and invalid values are refused (400, naming the element's path),
        // not logged and dropped.
        fhir.setParserErrorHandler(new NamedParseErrors());
        return fhir;
    }

    @Bean
    TransactionTemplate recordTransactions(PlatformTransactionManager transactionManager) {
        return new TransactionTemplate(transactionManager);
    }

    @Bean
    SearchIndexer searchIndexer(DataSource dataSource, BlindIndex blindIndex, IndexPlanner planner) {
        return new SearchIndexer(dataSource, blindIndex, planner);
    }

    @Bean
    RecordAudit recordAudit(AuditTrail auditTrail) {
        return new RecordAudit(auditTrail);
    }

    @Bean
    RecordGuard recordGuard(RecordAccess access, ClientAddress addresses, RecordAudit audit, java.time.Clock clock) {
        return new RecordGuard(access, addresses, audit, clock);
    }

    @Bean
    RecordStore recordStore(DataSource dataSource, FhirContext fhir, RecordCipher cipher, SearchIndexer indexer,
            RecordGuard guard, CareRelationships relationships) {
        return new RecordStore(dataSource, fhir, cipher, indexer, guard, new CareTeamLinks(relationships));
    }

    /** What other modules may ask of the patient records (records' public API). */
    @Bean
    PatientRecordsStore patientRecords(DataSource dataSource) {
        return new PatientRecordsStore(dataSource);
    }

    /** What the crypto module's rotation jobs re-encrypt and re-index (ADR 0010). */
    @Bean
    RecordMaintenance encryptedRecords(DataSource dataSource, RecordCipher cipher, RecordStore store,
            SearchIndexer indexer, TransactionTemplate recordTransactions) {
        return new RecordMaintenance(dataSource, cipher, store, indexer, recordTransactions);
    }

    @Bean
    RecordSearch recordSearch(DataSource dataSource, TransactionTemplate recordTransactions, RecordStore store,
            SearchIndexer indexer, @Value("${carapace.search.max-candidates}") int maxCandidates) {
        return new RecordSearch(dataSource, recordTransactions, store, indexer, maxCandidates);
    }

    @Bean
    @ConditionalOnWebApplication
    ServletRegistrationBean<RestfulServer> fhirServlet(FhirContext fhir, RecordStore store, RecordSearch search,
            TransactionTemplate transactions, @Value("${carapace.fhir.max-json-depth}") int maxDepth,
            RecordAudit audit, AuditQueries auditQueries, RecordGuard guard, BreakGlass breakGlass,
            health.carapace.access.AccessPolicy accessPolicy, health.carapace.access.ClientAddress clientAddress,
            PublicBaseUrl publicBaseUrl, java.time.Clock clock,
            List<health.carapace.records.InstanceOperation> instanceOperations, DataSource dataSource,
            @Value("${carapace.search.max-candidates}") int maxCandidates) {
        List<IResourceProvider> providers = new ArrayList<>();
        Inclusions inclusions = new Inclusions(store, guard, dataSource, maxCandidates);
        RecordHistory history = new RecordHistory(store);
        ConditionalCriteria conditional = new ConditionalCriteria(search, guard, audit, dataSource);
        RecordPatch patches = new RecordPatch(fhir, store, guard, audit);
        for (String type : ResourceTypes.names()) {
            @SuppressWarnings("unchecked")
            Class<? extends Resource> modelClass =
                    (Class<? extends Resource>) fhir.getResourceDefinition(type).getImplementingClass();
            providers.add(new ResourceProvider(modelClass, store, search, transactions, audit, inclusions, history,
                    conditional, patches));
        }
        providers.add(new AuditEventProvider(auditQueries, audit, accessPolicy, clientAddress, clock));
        UnsupportedInteractions unsupported = new UnsupportedInteractions(guard);
        RestfulServer server = new CarapaceRestfulServer(fhir, unsupported);
        // operations other modules serve on one record (telehealth's $start-visit)
        RecordReads reads = new RecordReads(fhir, store, guard, audit);
        InstanceOperations operations = new InstanceOperations(instanceOperations, store, reads, audit, transactions,
                unsupported);
        server.setResourceProviders(providers);
        StrictBody strictBody = new StrictBody(maxDepth);
        server.registerProvider(new BundleProcessor(fhir, store, transactions, audit, guard, reads, conditional, patches,
                strictBody));
        server.registerProvider(new BreakGlassOperation(breakGlass, guard, store));
        server.registerProvider(operations);
        // $everything's own limit: a patient's whole record in scope, ids only until a page is rendered
        server.registerProvider(new PatientEverything(store, history, dataSource, 10 * maxCandidates));
        server.setServerConformanceProvider(new CapabilityStatementProvider(instanceOperations, publicBaseUrl::value));
        server.registerInterceptor(new RequestGuards());
        server.registerInterceptor(strictBody);
        server.registerInterceptor(new ErrorSanitiser());
        server.registerInterceptor(new ReadAudit(audit));
        OwnedPagingProvider paging = new OwnedPagingProvider(1000);
        paging.setDefaultPageSize(20);
        paging.setMaximumPageSize(100);
        // access control on every request (before the handler) and SSN masking on every response
        server.registerInterceptor(new AccessEnforcement(guard, store, reads, paging, operations));
        server.registerInterceptor(new ResultParameters());
        server.registerInterceptor(new StoredEcho(guard));
        server.registerInterceptor(new SsnMasking(fhir, guard));
        server.registerInterceptor(new OpaqueSearchLinks(paging));
        server.registerInterceptor(new StoredBundle(guard));
        server.setPagingProvider(paging);
        // Bundle.link, fullUrl and Location from configuration, never from Host or X-Forwarded-Host.
        server.setServerAddressStrategy(new IServerAddressStrategy() {
            @Override
            public String determineServerBase(ServletContext context, HttpServletRequest request) {
                return publicBaseUrl.value() + "/fhir";
            }
        });
        server.setDefaultResponseEncoding(EncodingEnum.JSON);
        // Compressed bodies never get here (RequestBodyLimit refuses them); never inflate one unbounded.
        server.setUncompressIncomingContents(false);
        ServletRegistrationBean<RestfulServer> registration = new ServletRegistrationBean<>(server, "/fhir/*");
        registration.setName("fhir");
        registration.setLoadOnStartup(1);
        return registration;
    }
}
