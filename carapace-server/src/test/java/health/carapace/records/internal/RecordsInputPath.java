package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.RequestTypeEnum;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.method.ResourceParameter;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import health.carapace.access.PatientScope;
import health.carapace.crypto.BlindIndex;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.apache.tomcat.util.buf.MessageBytes;
import org.apache.tomcat.util.http.Parameters;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.mock.web.MockHttpServletRequest;

/**
 * The records module's handling of request input up to the database, in this JVM, for the fast
 * fuzz targets ({@code health.carapace.fuzz.*InProcessFuzzTest}): the very components the
 * server runs on a FHIR request, configured as {@link FhirServerConfiguration} configures them
 * (its {@code FhirContext} with {@link NamedParseErrors}, {@link StrictBody} at the configured
 * depth), without HTTP, Spring or PostgreSQL, so that one input costs microseconds, not a request.
 *
 * <p>What runs, in the server's order: the parameter names' check of {@code CarapaceRestfulServer}
 * ({@link ParameterNames}), {@link RequestGuards} (content type and charset),
 * {@link StrictBody}, HAPI's own binding of a resource parameter ({@link ResourceParameter}, the
 * parser and its strict error handler), and then what the store does to a parsed resource before
 * its first SQL statement (type check, {@link PatientGroups}, {@link RecordCategories},
 * {@link CareTeamLinks}, {@link SafeNarrative}, the blind-index terms of every indexed parameter,
 * SSN detection and the JSON it would store). Searches: Tomcat's own parameter parser, then
 * {@link ResultParameters}, {@link Inclusions#parse}, {@link RecordSearch}'s planning and
 * {@link SearchSort#parse}; the plan stops where it would query (a {@link DataSource} that gives
 * no connection: reaching it means the input was accepted). Every failure goes through
 * {@link ErrorSanitiser}, which turns it into what the client would be sent.
 *
 * <p>What it leaves out, and the HTTPS targets cover: the access decision, the filters and
 * Spring Security, audit, and everything that reads or writes the database (references to stored
 * records, conditional matches, compartments checked against stored patients).
 */
public final class RecordsInputPath {

    /**
     * What the client would be sent: the status and, for a refusal, the OperationOutcome as JSON
     * and the exception's message. {@code byTomcat}: Tomcat's parameter parser cannot decode the
     * query or form; the server refuses such a request before the FHIR servlet, in
     * {@code platform.web.DecodableParameters} (400, an OperationOutcome naming only the encoding).
     */
    public record Answer(int status, String body, boolean byTomcat) {
        Answer(int status, String body) {
            this(status, body, false);
        }
    }

    private static final String BASE = "https://carapace.invalid/fhir";

    private final FhirContext fhir;
    private final RestfulServer server;
    private final StrictBody strictBody;
    private final RequestGuards requestGuards = new RequestGuards();
    private final ErrorSanitiser sanitiser = new ErrorSanitiser();
    private final ResultParameters resultParameters = new ResultParameters();
    private final RecordSearch search;
    private final AuditEventProvider auditEvents = new AuditEventProvider(new NoAuditDatabase(),
            new RecordAudit(new NoAuditTrail()), new GrantsTheAuditTrail(),
            new health.carapace.access.ClientAddress(address -> false), java.time.Clock.systemUTC());

    /** A caller whose roles the (granting) policy above lets read the audit trail. */
    private static final health.carapace.access.Caller AUDITOR = new health.carapace.access.Caller("fuzz-auditor",
            health.carapace.access.Caller.Kind.USER, java.util.Set.of("auditor"), null);

    private RecordsInputPath(int maxDepth, int maxCandidates, long indexPopulation) {
        this.fhir = new FhirServerConfiguration().fhirContext();
        this.server = new RestfulServer(fhir);
        server.setUncompressIncomingContents(false);
        this.strictBody = new StrictBody(maxDepth);
        DataSource noDatabase = new NoDatabase();
        this.search = new RecordSearch(noDatabase,
                new org.springframework.transaction.support.TransactionTemplate(
                        new org.springframework.jdbc.datasource.DataSourceTransactionManager(noDatabase)),
                null, new SearchIndexer(noDatabase, new KeyedHmacIndex(),
                new IndexPlanner(indexPopulation)), maxCandidates);
    }

    /** Built with the settings of the server's {@code application.properties}. */
    public static RecordsInputPath asConfigured() {
        Properties settings = new Properties();
        try (InputStream in = RecordsInputPath.class.getResourceAsStream("/application.properties")) {
            settings.load(in);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("application.properties not on the class path", e);
        }
        return new RecordsInputPath(Integer.parseInt(settings.getProperty("carapace.fhir.max-json-depth")),
                Integer.parseInt(settings.getProperty("carapace.search.max-candidates")),
                Long.parseLong(settings.getProperty("carapace.index.population")));
    }

    /** Whether the server serves create and search for this type here (others are refused before any input is read). */
    public static boolean serves(String type) {
        return ResourceTypes.names().contains(type);
    }

    /** {@code POST /fhir/{type}} with this body, up to the first SQL statement of the create. */
    public Answer create(String type, String contentType, byte[] body) {
        MockHttpServletRequest http = post("/fhir/" + type, contentType, body);
        ServletRequestDetails request = details(http, RequestTypeEnum.POST, type);
        try {
            bodyChecks(http, request);
            IBaseResource parsed = bind(request, modelClass(type));
            Resource resource = resourceOfType(parsed, type);
            beforeTheFirstStatement(resource);
            return new Answer(201, "");
        } catch (Throwable error) {
            return refusal(request, http, error);
        }
    }

    /** {@code POST /fhir} with this Bundle: parsing, the Bundle's type, and each entry's criteria and resource. */
    public Answer transaction(String contentType, byte[] body) {
        MockHttpServletRequest http = post("/fhir", contentType, body);
        ServletRequestDetails request = details(http, RequestTypeEnum.POST, null);
        try {
            bodyChecks(http, request);
            Bundle bundle = (Bundle) bind(request, Bundle.class);
            if (bundle == null) {
                // an empty body: HAPI binds nothing, and the processor refuses a Bundle of no type
                throw SafeFhirException.badRequest("Only batch and transaction Bundles can be posted to the base URL");
            }
            if (bundle.getType() != Bundle.BundleType.TRANSACTION && bundle.getType() != Bundle.BundleType.BATCH) {
                throw SafeFhirException.badRequest("Only batch and transaction Bundles can be posted to the base URL");
            }
            for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
                Resource resource = entry.getResource();
                if (resource != null && serves(resource.fhirType())) {
                    if (entry.getRequest().hasIfNoneExist()) {
                        ConditionalCriteria.parse(resource.fhirType(), entry.getRequest().getIfNoneExist());
                    }
                    String url = entry.getRequest().getUrl();
                    if (url != null && url.contains("?") && entry.getRequest().getMethod() == Bundle.HTTPVerb.PUT) {
                        ConditionalCriteria.parse(resource.fhirType(), url);
                    }
                    beforeTheFirstStatement(resource);
                }
            }
            return new Answer(200, "");
        } catch (Throwable error) {
            return refusal(request, http, error);
        }
    }

    /** {@code GET /fhir/{type}?query} (or {@code POST /fhir/{type}/_search} with {@code form}), up to the search's query. */
    public Answer search(String type, String rawQuery, byte[] form) {
        MockHttpServletRequest http = form == null ? new MockHttpServletRequest("GET", "/fhir/" + type)
                : post("/fhir/" + type + "/_search", "application/x-www-form-urlencoded", form);
        http.setQueryString(rawQuery);
        ServletRequestDetails request = details(http, form == null ? RequestTypeEnum.GET : RequestTypeEnum.POST, type);
        Map<String, String[]> parameters;
        try {
            parameters = tomcatParameters(rawQuery, form);
        } catch (RuntimeException malformed) {
            // Tomcat refuses a query it cannot decode itself, before any application code runs
            return new Answer(400, "", true);
        }
        if (ParameterNames.rewrittenByHapi(parameters.keySet())) {
            return refusedName();
        }
        request.setParameters(parameters);
        try {
            if (form != null) {
                requestGuards.checkContentType(http, null);
            }
            resultParameters.check(request);
            Inclusions.parse(type, parameters);
            // the plan, then the sort (SearchSort.parse) when the plan holds; lazy results read nothing yet
            IBundleProvider planned = search.search(type, parameters, everyPatient(), true);
            return new Answer(planned == null ? 500 : 200, "");
        } catch (ReachedTheDatabase accepted) {
            return new Answer(200, "");
        } catch (Throwable error) {
            if (causeIs(error, ReachedTheDatabase.class)) {
                return new Answer(200, "");
            }
            return refusal(request, http, error);
        }
    }

    /**
     * {@code GET /fhir/AuditEvent?query} by a caller the policy lets read the audit trail: Tomcat's
     * parameter parser, {@link ResultParameters}, and {@link AuditEventProvider#search}'s own reading
     * of its parameters, up to its query (the audit queries are {@link ReachedTheDatabase}).
     */
    public Answer auditEventSearch(String rawQuery) {
        MockHttpServletRequest http = new MockHttpServletRequest("GET", "/fhir/AuditEvent");
        http.setQueryString(rawQuery);
        health.carapace.access.Callers.attach(http, AUDITOR);
        ServletRequestDetails request = details(http, RequestTypeEnum.GET, "AuditEvent");
        Map<String, String[]> parameters;
        try {
            parameters = tomcatParameters(rawQuery, null);
        } catch (RuntimeException malformed) {
            return new Answer(400, "", true);
        }
        if (ParameterNames.rewrittenByHapi(parameters.keySet())) {
            return refusedName();
        }
        request.setParameters(parameters);
        try {
            resultParameters.check(request);
            auditEvents.search(request, http);
            return new Answer(500, "an AuditEvent search returned without reaching its query");
        } catch (Throwable error) {
            if (causeIs(error, ReachedTheDatabase.class)) {
                return new Answer(200, "");
            }
            return refusal(request, http, error);
        }
    }

    /** As {@code CarapaceRestfulServer#handleRequest} answers a parameter name HAPI would rewrite. */
    private Answer refusedName() {
        return new Answer(400, fhir.newJsonParser().encodeResourceToString(health.carapace.platform.web.OperationOutcomes
                .of(org.hl7.fhir.r4.model.OperationOutcome.IssueType.INVALID, ParameterNames.REFUSAL)));
    }

    private void bodyChecks(MockHttpServletRequest http, ServletRequestDetails request) {
        requestGuards.checkContentType(http, null);
        strictBody.check(request);
    }

    private IBaseResource bind(ServletRequestDetails request, Class<? extends IBaseResource> type) {
        ResourceParameter parameter = new ResourceParameter(type, null, ResourceParameter.Mode.RESOURCE, false, false);
        return (IBaseResource) parameter.translateQueryParametersIntoServerArgument(request, null);
    }

    private Class<? extends IBaseResource> modelClass(String type) {
        return fhir.getResourceDefinition(type).getImplementingClass();
    }

    /** As {@code ResourceProvider.checkType}. */
    private static Resource resourceOfType(IBaseResource resource, String type) {
        if (!(resource instanceof Resource r) || !r.fhirType().equals(type)) {
            throw SafeFhirException.badRequest("The body is not a " + type + " resource");
        }
        return r;
    }

    /** What {@link RecordStore#create} does to a resource before its first statement, and the JSON it would seal. */
    private void beforeTheFirstStatement(Resource resource) {
        String type = resource.fhirType();
        RecordCategories.of(resource);
        CareTeamLinks.practitioners(resource);
        ResourceTypes.patientReference(resource);
        PatientGroups.check(resource);
        SafeNarrative.check(resource);
        for (SearchCatalog.Param param : SearchCatalog.forType(type).values()) {
            if (param.serving() == SearchCatalog.Serving.BLIND_INDEX) {
                for (Base value : param.values().apply(resource)) {
                    SearchIndexer.terms(type, param, value);
                }
            }
        }
        SsnMasking.holdsSsn(fhir, resource);
        fhir.newJsonParser().encodeResourceToString(resource).getBytes(StandardCharsets.UTF_8);
    }

    private Answer refusal(ServletRequestDetails request, MockHttpServletRequest http, Throwable error) {
        BaseServerResponseException answered = sanitiser.sanitise(request, error, http, null);
        String body = answered.getOperationOutcome() == null ? ""
                : fhir.newJsonParser().encodeResourceToString(answered.getOperationOutcome());
        return new Answer(answered.getStatusCode(), body + "\n" + answered.getMessage());
    }

    private static MockHttpServletRequest post(String path, String contentType, byte[] body) {
        MockHttpServletRequest http = new MockHttpServletRequest("POST", path);
        if (contentType != null) {
            http.setContentType(contentType);
        }
        http.setContent(body);
        return http;
    }

    private ServletRequestDetails details(MockHttpServletRequest http, RequestTypeEnum method, String type) {
        ServletRequestDetails request = new ServletRequestDetails() {
            @Override
            public String getFhirServerBase() {
                return BASE;
            }
        };
        request.setServer(server);
        request.setServletRequest(http);
        request.setRequestType(method);
        request.setResourceName(type);
        request.setFhirServerBase(BASE);
        request.setCompleteUrl(BASE + (type == null ? "" : "/" + type));
        request.setParameters(new LinkedHashMap<>());
        return request;
    }

    /** The parameters as Tomcat gives them to the servlet: the query string, then a form body. */
    private static Map<String, String[]> tomcatParameters(String rawQuery, byte[] form) {
        Parameters parameters = new Parameters();
        parameters.setCharset(StandardCharsets.UTF_8);
        parameters.setQueryStringCharset(StandardCharsets.UTF_8);
        parameters.setLimit(1000);
        if (rawQuery != null) {
            MessageBytes query = MessageBytes.newInstance();
            byte[] bytes = rawQuery.getBytes(StandardCharsets.ISO_8859_1);
            query.setBytes(bytes, 0, bytes.length);
            parameters.setQuery(query);
            parameters.handleQueryParameters();
        }
        if (form != null) {
            parameters.processParameters(form, 0, form.length);
        }
        Map<String, String[]> map = new LinkedHashMap<>();
        for (String name : Collections.list(parameters.getParameterNames())) {
            map.put(name, parameters.getParameterValues(name));
        }
        return map;
    }

    private static AccessEnforcement.Scopes everyPatient() {
        // a caller who may search every record: the input reaches as far as a permitted caller's would
        return new AccessEnforcement.Scopes(new PatientScope(null, true, true, false, java.util.Set.of(), null), null);
    }

    private static boolean causeIs(Throwable error, Class<? extends Throwable> type) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** Thrown where the plan would reach PostgreSQL: the input got that far, so it was accepted. */
    static final class ReachedTheDatabase extends RuntimeException {
        ReachedTheDatabase() {
            super("the in-process input path stops before the database", null, false, false);
        }
    }

    /** A data source whose every connection is {@link ReachedTheDatabase}. */
    private static final class NoDatabase implements DataSource {
        @Override
        public Connection getConnection() {
            throw new ReachedTheDatabase();
        }

        @Override
        public Connection getConnection(String username, String password) {
            throw new ReachedTheDatabase();
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }

    /** Audit queries whose every call is {@link ReachedTheDatabase}. */
    private static final class NoAuditDatabase implements health.carapace.audit.AuditQueries {
        @Override
        public List<StoredEvent> search(Criteria criteria) {
            throw new ReachedTheDatabase();
        }

        @Override
        public Page page(Criteria criteria, String after) {
            throw new ReachedTheDatabase();
        }

        @Override
        public List<StoredEvent> disclosures(String patient, java.time.Instant since) {
            throw new ReachedTheDatabase();
        }

        @Override
        public List<StoredEvent> recentDisclosures(String patient, java.time.Instant since, int newest) {
            throw new ReachedTheDatabase();
        }

        @Override
        public List<Usage> usage(String user, java.time.Instant since) {
            throw new ReachedTheDatabase();
        }

        @Override
        public boolean actedOutside(String user, java.time.Instant since, java.util.Collection<String> patients) {
            throw new ReachedTheDatabase();
        }
    }

    /** A policy under which the caller may read the audit trail: the search's parameters are the subject. */
    private static final class GrantsTheAuditTrail implements health.carapace.access.AccessPolicy {
        @Override
        public health.carapace.access.AccessDecision decide(health.carapace.access.AccessRequest request) {
            throw new AssertionError("the AuditEvent search decides through grants only");
        }

        @Override
        public boolean grants(health.carapace.access.Caller caller, String permission, java.net.InetAddress address,
                java.time.Instant at) {
            return health.carapace.access.Permissions.VIEW_AUDIT.equals(permission);
        }
    }

    /** The AuditEvent search records only a denial, which the granting policy here never gives. */
    private static final class NoAuditTrail implements health.carapace.audit.AuditTrail {
        @Override
        public void record(List<health.carapace.audit.AuditEvent> events) {
            throw new AssertionError("the in-process AuditEvent search recorded a denial");
        }

        @Override
        public void recordInTransaction(List<health.carapace.audit.AuditEvent> events) {
            throw new AssertionError("the in-process AuditEvent search recorded an event");
        }

        @Override
        public byte[] encryptQuery(java.util.UUID eventId, String query) {
            throw new AssertionError("the in-process AuditEvent search encrypted a query");
        }
    }

    /**
     * Blind-index tokens under a key of this JVM (HMAC-SHA256, as the keyring's index keys): a
     * search's plan needs a token for each term; which key made it changes nothing of the parsing.
     */
    private static final class KeyedHmacIndex implements BlindIndex {
        private final javax.crypto.spec.SecretKeySpec key;

        KeyedHmacIndex() {
            byte[] bytes = new byte[32];
            new java.security.SecureRandom().nextBytes(bytes);
            this.key = new javax.crypto.spec.SecretKeySpec(bytes, "HmacSHA256");
        }

        @Override
        public int token(int keyVersion, String index, String normalisedValue, int bits) {
            try {
                javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
                mac.init(key);
                mac.update((index + "\0").getBytes(StandardCharsets.UTF_8));
                byte[] out = mac.doFinal(normalisedValue.getBytes(StandardCharsets.UTF_8));
                int value = ((out[0] & 0xff) << 24) | ((out[1] & 0xff) << 16) | ((out[2] & 0xff) << 8) | (out[3] & 0xff);
                return bits >= 32 ? value : value >>> (32 - bits);
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public int activeVersion() {
            return 1;
        }

        @Override
        public List<Integer> searchableVersions() {
            return new ArrayList<>(List.of(1));
        }
    }
}
