package health.carapace.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tiny in-memory FHIR server on loopback, plain HTTP, for the bench's own tests: creates,
 * reads and the two searches, and a client-credentials token endpoint. It can be told to fail
 * every n-th read with 503 so that tests can check errors are reported.
 */
final class StubFhirServer implements AutoCloseable {

    static final String CLIENT_ID = "bench-client";
    static final String CLIENT_SECRET = "s3cret";
    private static final Pattern MRN = Pattern.compile("\"value\":\"(\\d{12})\"");

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(4);
    private final Map<String, String> patientIdByMrn = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicInteger tokensIssued = new AtomicInteger();
    final AtomicLong reads = new AtomicLong();
    final AtomicLong updates = new AtomicLong();
    volatile int failEveryNthRead;

    StubFhirServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.setExecutor(executor);
        server.createContext("/oauth2/token", this::token);
        server.createContext("/fhir", this::fhir);
        server.start();
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/fhir");
    }

    int tokensIssued() {
        return tokensIssued.get();
    }

    /** The id this server gave the patient created with {@code mrn}, or null. */
    String patientIdByMrn(String mrn) {
        return patientIdByMrn.get(mrn);
    }

    private void token(HttpExchange exchange) throws IOException {
        drain(exchange);
        String expected = "Basic " + Base64.getEncoder()
                .encodeToString((CLIENT_ID + ":" + CLIENT_SECRET).getBytes(StandardCharsets.UTF_8));
        if (!expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            send(exchange, 401, "{\"error\":\"invalid_client\"}", null);
            return;
        }
        send(exchange, 200, "{\"access_token\":\"token-" + tokensIssued.incrementAndGet()
                + "\",\"token_type\":\"Bearer\",\"expires_in\":900}", null);
    }

    private void fhir(HttpExchange exchange) throws IOException {
        String body = drain(exchange);
        String path = exchange.getRequestURI().getPath().substring("/fhir".length());
        String query = exchange.getRequestURI().getRawQuery();
        if (path.equals("/metadata")) {
            send(exchange, 200, "{\"resourceType\":\"CapabilityStatement\"}", null);
            return;
        }
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        if (authorization == null || !authorization.startsWith("Bearer token-")) {
            send(exchange, 401, "{\"resourceType\":\"OperationOutcome\"}", null);
            return;
        }
        String method = exchange.getRequestMethod();
        if (method.equals("POST") && (path.equals("/Patient") || path.equals("/Observation"))) {
            String type = path.substring(1);
            String id = type.toLowerCase() + "-" + ids.incrementAndGet();
            Matcher mrn = MRN.matcher(body);
            if (type.equals("Patient") && mrn.find()) {
                patientIdByMrn.put(mrn.group(1), id);
            }
            send(exchange, 201, "{\"resourceType\":\"" + type + "\",\"id\":\"" + id + "\"}",
                    base() + "/" + type + "/" + id + "/_history/1");
        } else if (method.equals("PUT") && path.startsWith("/Patient/")) {
            // an update names the record it replaces and keeps the MRN it was seeded with
            String id = path.substring(9);
            Matcher mrn = MRN.matcher(body);
            boolean sameRecord = body.startsWith("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",")
                    && mrn.find() && id.equals(patientIdByMrn.get(mrn.group(1)));
            updates.incrementAndGet();
            send(exchange, sameRecord ? 200 : 400, sameRecord ? "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}"
                    : "{\"resourceType\":\"OperationOutcome\"}", null);
        } else if (method.equals("GET") && path.startsWith("/Patient/")) {
            long n = reads.incrementAndGet();
            int failEvery = failEveryNthRead;
            if (failEvery > 0 && n % failEvery == 0) {
                send(exchange, 503, "{\"resourceType\":\"OperationOutcome\"}", null);
            } else {
                send(exchange, 200, "{\"resourceType\":\"Patient\",\"id\":\"" + path.substring(9) + "\"}", null);
            }
        } else if (method.equals("GET") && path.equals("/Patient") && query != null && query.startsWith("identifier=")) {
            String token = URLDecoder.decode(query.substring("identifier=".length()), StandardCharsets.UTF_8);
            String id = patientIdByMrn.get(token.substring(token.indexOf('|') + 1));
            send(exchange, 200, "{\"resourceType\":\"Bundle\",\"entry\":["
                    + (id == null ? "" : "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}}") + "]}", null);
        } else if (method.equals("GET") && path.equals("/Observation") && query != null && query.startsWith("patient=")) {
            send(exchange, 200, "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Observation\"}}]}",
                    null);
        } else {
            send(exchange, 404, "{\"resourceType\":\"OperationOutcome\"}", null);
        }
    }

    private static String drain(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void send(HttpExchange exchange, int status, String body, String location) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
        if (location != null) {
            exchange.getResponseHeaders().set("Location", location);
        }
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
