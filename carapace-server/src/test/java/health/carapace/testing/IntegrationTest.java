package health.carapace.testing;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import health.carapace.CarapaceApplication;
import health.carapace.signin.ServiceClients;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.http.impl.client.HttpClients;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Base of integration tests: the real server over HTTPS on a random port, on the shared test
 * installation, with a service client and HAPI's generic client already set up.
 */
@SpringBootTest(classes = CarapaceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class IntegrationTest {

    private static ServiceClients.Credentials everythingClient;
    private static String cachedToken;
    private static java.time.Instant cachedTokenIssuedAt;

    @LocalServerPort
    protected int port;

    @Autowired
    protected ServiceClients serviceClients;

    @Autowired
    void closeBeforeTheDatabaseAtExit(org.springframework.context.ConfigurableApplicationContext context) {
        TestInstallation.closeBeforeTheDatabaseAtExit(context);
    }

    @Autowired
    protected javax.sql.DataSource dataSource;

    protected final FhirContext fhir = FhirContext.forR4Cached();

    @DynamicPropertySource
    static void installation(DynamicPropertyRegistry registry) {
        TestInstallation.properties().forEach((key, value) -> registry.add(key, () -> value));
        // JWKS servers in tests present the installation's own certificate (JwksUrlTest).
        registry.add("carapace.smart.jwks-trust-store", () -> TestInstallation.properties().get("server.ssl.key-store"));
        registry.add("carapace.smart.jwks-trust-store-password",
                () -> TestInstallation.properties().get("server.ssl.key-store-password"));
        TestPolicy.directory(); // the test roles are in place before the server loads the directory
    }

    /** A new service client holding {@code roles} (from {@link TestPolicy}); its secret is in the result. */
    protected ServiceClients.Credentials client(String name, String... roles) {
        ServiceClients.Credentials client = serviceClients.create(name);
        TestPolicy.grant(dataSource, client.clientId(), roles);
        return client;
    }

    /** A token for a new service client holding {@code roles}. */
    protected String tokenWithRoles(String name, String... roles) {
        ServiceClients.Credentials client = client(name, roles);
        return tokenFor(client.clientId(), client.clientSecret());
    }

    protected String baseUrl() {
        return "https://localhost:" + port;
    }

    protected String fhirBase() {
        return baseUrl() + "/fhir";
    }

    protected HttpClient http() {
        return HttpClient.newBuilder().sslContext(TestInstallation.trustingSslContext(TestInstallation.dataDir())).build();
    }

    /**
     * An access token for a service client created once per JVM. It acts system-to-system: its
     * role grants every permission, view:all_patients and view:ssn included. Renewed well before
     * the 15-minute lifetime ends, since a whole run on a loaded machine can take longer than that.
     */
    protected String token() {
        synchronized (IntegrationTest.class) {
            if (everythingClient == null) {
                everythingClient = client("integration-tests", TestPolicy.EVERYTHING);
            }
            if (cachedToken == null
                    || cachedTokenIssuedAt.isBefore(java.time.Instant.now().minus(java.time.Duration.ofMinutes(5)))) {
                cachedToken = tokenFor(everythingClient.clientId(), everythingClient.clientSecret());
                cachedTokenIssuedAt = java.time.Instant.now();
            }
            return cachedToken;
        }
    }

    protected String tokenFor(String clientId, String secret) {
        try {
            String basic = Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8));
            HttpResponse<String> response = http().send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
                    .header("Authorization", "Basic " + basic)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            Matcher m = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"").matcher(response.body());
            if (response.statusCode() != 200 || !m.find()) {
                throw new IllegalStateException("token request failed with status " + response.statusCode());
            }
            return m.group(1);
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    protected IGenericClient fhirClient() {
        FhirContext context = FhirContext.forR4();
        context.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
        context.getRestfulClientFactory().setHttpClient(HttpClients.custom()
                .setSSLContext(TestInstallation.trustingSslContext(TestInstallation.dataDir()))
                .build());
        IGenericClient client = context.newRestfulGenericClient(fhirBase());
        client.registerInterceptor(new BearerTokenAuthInterceptor(token()));
        return client;
    }

    /** A raw HTTPS request to the FHIR API with the test token. */
    protected HttpResponse<String> send(HttpRequest.Builder request) {
        return sendWithoutToken(request.header("Authorization", "Bearer " + token()));
    }

    /**
     * How long a test's GET or HEAD waits for its response unless it sets its own timeout. The JDK's
     * HTTP client (17.0.15) once left a response unread: the server had answered (the client socket
     * held the unread bytes, then the server's close after its keep-alive timeout) while the test
     * waited with no timeout, which would hold a CI run until its limit. Other methods wait longer
     * (a Bundle on a loaded two-core machine is slow), but not forever.
     */
    private static final java.time.Duration READ_RESPONSE_WAIT = java.time.Duration.ofSeconds(60);
    private static final java.time.Duration WRITE_RESPONSE_WAIT = java.time.Duration.ofMinutes(5);

    /**
     * A raw HTTPS request exactly as built: no credentials are added. A request that sets its own
     * timeout gets exactly that. Otherwise a GET or HEAD whose response has not been read within
     * {@link #READ_RESPONSE_WAIT} is sent once more on a new client, after
     * every thread of this JVM (the server's too) is printed to stderr: a server that was stuck shows
     * there, and the retry (a second audit event for a read) stays visible in the test's output.
     */
    protected HttpResponse<String> sendWithoutToken(HttpRequest.Builder request) {
        HttpRequest built = request.build();
        boolean ownTimeout = built.timeout().isPresent();
        boolean read = built.method().equals("GET") || built.method().equals("HEAD");
        if (!ownTimeout) {
            built = HttpRequest.newBuilder(built, (name, value) -> true)
                    .timeout(read ? READ_RESPONSE_WAIT : WRITE_RESPONSE_WAIT).build();
        }
        try {
            try {
                return http().send(built, HttpResponse.BodyHandlers.ofString());
            } catch (java.net.http.HttpTimeoutException e) {
                if (ownTimeout || !read) {
                    throw e;
                }
                StringBuilder threads = new StringBuilder("A test's " + built.method() + " had no response read within "
                        + built.timeout().orElseThrow() + "; every thread, then the request once more on a new client:\n");
                for (java.lang.management.ThreadInfo info : java.lang.management.ManagementFactory.getThreadMXBean()
                        .dumpAllThreads(false, false)) {
                    threads.append(info);
                }
                System.err.println(threads);
                return http().send(built, HttpResponse.BodyHandlers.ofString());
            }
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    protected URI uri(String path) {
        return URI.create(baseUrl() + path);
    }

    /** The audit events of one request (by its {@code X-Request-Id}), as action|resource|patient. */
    protected java.util.List<String> auditEventsOf(HttpResponse<?> response) {
        String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
        return org.springframework.jdbc.core.simple.JdbcClient.create(dataSource)
                .sql("select action || '|' || (convert_from(body, 'UTF8')::jsonb ->> 'resource') || '|' "
                        + "|| coalesce(patient, '') from audit.event "
                        + "where convert_from(body, 'UTF8')::jsonb ->> 'request_id' = ?")
                .param(requestId).query(String.class).list();
    }
}
