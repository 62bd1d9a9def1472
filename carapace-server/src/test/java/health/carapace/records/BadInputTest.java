package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.RawHttp;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestInstallation;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.net.ssl.SSLSocket;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Bad input against the running server. Each refusal must be an OperationOutcome with the right
 * status, must echo none of the unique strings the request carried (body, headers or logs), and
 * must leave the record tables exactly as they were.
 *
 * <p>Every request also sends a unique client {@code X-Request-ID}: the server's own request id
 * is the only one a response may name.
 */
@ExtendWith(OutputCaptureExtension.class)
class BadInputTest extends IntegrationTest {

    private static final String FHIR_JSON = "application/fhir+json";
    private static final String FHIR_XML = "application/fhir+xml";

    @Autowired
    private DataSource dataSource;

    @Value("${carapace.fhir.max-body-bytes}")
    private int maxBodyBytes;

    @Value("${carapace.fhir.max-json-depth}")
    private int maxDepth;

    @TempDir
    private Path tempDir;

    private CapturedOutput output;
    private String captureProbe;
    private String clientRequestId;
    private StoredRows before;

    /** Row counts of the record tables; a refused request must not change any of them. */
    private record StoredRows(long resources, long versions, long indexTokens) {}

    @BeforeEach
    void recordTheStartingPoint(CapturedOutput output) {
        this.output = output;
        // Logged through the application's own log format, so that "not in the logs" below is
        // checked against output that demonstrably includes the server's log lines.
        captureProbe = "capture-probe-" + UUID.randomUUID();
        LoggerFactory.getLogger(BadInputTest.class).info("Output capture check " + captureProbe);
        // HAPI accepts letters and digits only in a client request id; anything else it would ignore.
        clientRequestId = "clientid" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        before = storedRows();
    }

    @Test
    void malformedJsonIsRefusedWith400WithoutEchoingTheBadToken() {
        String canary = canary();
        // An unquoted token: Jackson's message quotes it ("Unrecognized token '...'").
        String body = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":" + canary + "}]}";

        HttpResponse<String> response = send(post("/fhir/Patient", FHIR_JSON, body));

        assertRefused(response, 400, canary);
    }

    @Test
    void malformedXmlIsRefusedWith400WithoutEchoingTheBadElement() {
        String canary = canary();
        // An unclosed element: the XML parser's message names it ("... must be terminated by ...").
        String body = "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"Doe\"/></name><" + canary + "></Patient>";

        HttpResponse<String> response = send(post("/fhir/Patient", FHIR_XML, body));

        assertRefused(response, 400, canary);
    }

    /** Where the external entity is used; each is a path by which a resolved file would reach the client. */
    enum EntityUse {
        /** In a primitive's value attribute, which HAPI stores and echoes in the 201 response. */
        ATTRIBUTE_VALUE,
        /** In the XHTML narrative, which HAPI reads as raw XML events rather than as FHIR elements. */
        NARRATIVE,
        /** Declared in an external DTD file that names the marker file: a resolver must fetch both. */
        EXTERNAL_DTD
    }

    @ParameterizedTest
    @EnumSource(EntityUse.class)
    void xmlExternalEntityIsNeverResolved(EntityUse use) throws IOException {
        String marker = "xxe-marker-" + UUID.randomUUID();
        Path secret = Files.writeString(tempDir.resolve("secret.txt"), marker);
        String entity = "<!ENTITY xxe SYSTEM \"" + secret.toUri() + "\">";
        String doctype = switch (use) {
            case ATTRIBUTE_VALUE, NARRATIVE -> "<!DOCTYPE Patient [" + entity + "]>";
            case EXTERNAL_DTD -> "<!DOCTYPE Patient SYSTEM \""
                    + Files.writeString(tempDir.resolve("entities.dtd"), entity).toUri() + "\">";
        };
        String content = switch (use) {
            case ATTRIBUTE_VALUE, EXTERNAL_DTD -> "<name><family value=\"&xxe;\"/></name>";
            case NARRATIVE -> "<text><status value=\"generated\"/>"
                    + "<div xmlns=\"http://www.w3.org/1999/xhtml\">&xxe;</div></text>";
        };
        String body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + doctype
                + "<Patient xmlns=\"http://hl7.org/fhir\">" + content + "</Patient>";

        HttpResponse<String> response = send(post("/fhir/Patient", FHIR_XML, body));

        assertRefused(response, 400, marker, secret.toString());
    }

    @Test
    void bodyOverTheLimitWithContentLengthIsRefusedWith413BeforeTheBodyIsRead() throws IOException {
        String canary = canary();
        byte[] body = patientPaddedTo(maxBodyBytes + 100, canary);

        RawHttp.Response response;
        try (SSLSocket socket = tlsSocket()) {
            OutputStream out = socket.getOutputStream();
            out.write(requestHead("POST /fhir/Patient", "Content-Length: " + body.length));
            // Only the first part is sent: the declared length alone must be enough to refuse.
            // If the server waited for the rest, the read below would time out.
            out.write(body, 0, 64 * 1024);
            out.flush();
            response = RawHttp.read(socket.getInputStream());
        }

        assertRefused(response, 413, canary);
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getCode()).isEqualTo(OperationOutcome.IssueType.TOOLONG);
    }

    @Test
    void chunkedBodyOverTheLimitIsRefusedWith413() throws IOException {
        String canary = canary();
        byte[] body = patientPaddedTo(maxBodyBytes + 100, canary);

        RawHttp.Response response;
        try (SSLSocket socket = tlsSocket()) {
            OutputStream out = socket.getOutputStream();
            out.write(requestHead("POST /fhir/Patient", "Transfer-Encoding: chunked"));
            writeChunked(out, body);
            response = RawHttp.read(socket.getInputStream());
        }

        assertRefused(response, 413, canary);
    }

    @Test
    void chunkedBodyWithinTheLimitIsStoredIntact() throws IOException {
        // The other side of the limit: a chunked body is buffered by the limit filter and must
        // reach the FHIR server whole.
        String family = canary();
        byte[] body = patientPaddedTo(64 * 1024, family);

        RawHttp.Response response;
        try (SSLSocket socket = tlsSocket()) {
            OutputStream out = socket.getOutputStream();
            out.write(requestHead("POST /fhir/Patient", "Transfer-Encoding: chunked"));
            writeChunked(out, body);
            response = RawHttp.read(socket.getInputStream());
        }

        assertThat(response.status()).isEqualTo(201);
        Patient stored = (Patient) fhir.newJsonParser().parseResource(response.body());
        assertThat(stored.getNameFirstRep().getFamily()).isEqualTo(family);
        assertThat(storedRows().resources()).isEqualTo(before.resources() + 1);
    }

    @Test
    void jsonNestedTenThousandLevelsDeepIsRefusedWith400() {
        String canary = canary();

        HttpResponse<String> response = send(post("/fhir/Patient", FHIR_JSON, patientNestedJson(10_000, canary)));

        assertRefused(response, 400, canary);
    }

    @Test
    void jsonNestedOneLevelPastTheConfiguredDepthIsRefusedWith400() {
        String canary = canary();

        HttpResponse<String> response = send(post("/fhir/Patient", FHIR_JSON, patientNestedJson(maxDepth + 1, canary)));

        assertRefused(response, 400, canary);
    }

    @Test
    void jsonNestedExactlyToTheConfiguredDepthIsStored() {
        // The other side of the bound: without it, the refusals above could be about anything.
        HttpResponse<String> response = send(post("/fhir/Patient", FHIR_JSON, patientNestedJson(maxDepth, canary())));

        assertThat(response.statusCode()).isEqualTo(201);
    }

    @Test
    void xmlNestedTenThousandLevelsDeepIsRefusedWith400() {
        String canary = canary();

        HttpResponse<String> response = send(post("/fhir/Patient", FHIR_XML, patientNestedXml(10_000, canary)));

        assertRefused(response, 400, canary);
    }

    @Test
    void xmlNestedOneLevelPastTheConfiguredDepthIsRefusedWith400() {
        String canary = canary();

        HttpResponse<String> response = send(post("/fhir/Patient", FHIR_XML, patientNestedXml(maxDepth + 1, canary)));

        assertRefused(response, 400, canary);
    }

    @Test
    void xmlNestedExactlyToTheConfiguredDepthIsStored() {
        HttpResponse<String> response = send(post("/fhir/Patient", FHIR_XML, patientNestedXml(maxDepth, canary())));

        assertThat(response.statusCode()).isEqualTo(201);
    }

    @Test
    void unknownResourceTypeIsNotFound() {
        String unknownType = "Canary" + randomLetters();
        String canary = canary();

        HttpResponse<String> read = send(get("/fhir/" + unknownType + "/" + UUID.randomUUID()));
        assertRefused(read, 404, unknownType);

        HttpResponse<String> create = send(post("/fhir/" + unknownType, FHIR_JSON,
                "{\"resourceType\":\"" + unknownType + "\",\"name\":\"" + canary + "\"}"));
        assertRefused(create, 404, unknownType, canary);

        // A real FHIR type that this server does not serve is unknown here too.
        HttpResponse<String> unserved = send(post("/fhir/Basic", FHIR_JSON,
                "{\"resourceType\":\"Basic\",\"code\":{\"text\":\"" + canary + "\"}}"));
        assertRefused(unserved, 404, canary);
    }

    @Test
    void plainTextBodyIsRefusedWith415EvenWhenItIsAValidResource() {
        String canary = canary();

        HttpResponse<String> response = send(post("/fhir/Patient", "text/plain",
                "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + canary + "\"}]}"));

        assertRefused(response, 415, canary);
    }

    @Test
    void updateWhoseBodyIdDiffersFromTheUrlIdIsRefusedWith400AndChangesNothing() {
        IGenericClient client = fhirClient();
        Patient original = new Patient();
        original.addName().setFamily("Unchanged");
        IdType id = (IdType) client.create().resource(original).execute().getId();
        before = storedRows();
        String canary = canary();
        String otherId = UUID.randomUUID().toString();

        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/Patient/" + id.getIdPart()))
                .header("Content-Type", FHIR_JSON)
                .header("X-Request-ID", clientRequestId)
                .PUT(BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"id\":\"" + otherId
                        + "\",\"name\":[{\"family\":\"" + canary + "\"}]}")));

        assertRefused(response, 400, canary, otherId);
        Patient current = client.read().resource(Patient.class).withId(id.getIdPart()).execute();
        assertThat(current.getMeta().getVersionId()).isEqualTo("1");
        assertThat(current.getNameFirstRep().getFamily()).isEqualTo("Unchanged");
    }

    @Test
    void invalidDateIsRefusedWith400WithoutEchoingTheDateOrAnyOtherValue() {
        String canary = canary();
        String invalidDate = "1980-13-45";

        HttpResponse<String> response = send(post("/fhir/Patient", FHIR_JSON,
                "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + canary + "\"}],\"birthDate\":\""
                        + invalidDate + "\"}"));

        assertRefused(response, 400, canary, invalidDate);
    }

    @Test
    void conditionalCreateWhoseCriteriaBlindIndexesCannotServeIsRefusedWith400InsteadOfCreatingADuplicate() {
        String canary = canary();

        HttpResponse<String> response = send(post("/fhir/Patient", FHIR_JSON,
                "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + canary + "\"}]}")
                .header("If-None-Exist", "gender=" + canary));

        assertRefused(response, 400, canary);
        assertThat(response.body()).contains("blind indexes");
    }

    // --- strict input: one meaning for every body that is stored ------------------------------

    /** Where a body is sent: each write path must refuse it alike. */
    enum WritePath { CREATE, UPDATE, TRANSACTION }

    @ParameterizedTest
    @EnumSource(WritePath.class)
    void duplicateJsonKeysAreRefusedWith400(WritePath path) {
        String canary = canary();
        // HAPI kept the last of the two, so what was stored depended on which parser read it.
        String body = writeBody(path, "{\"resourceType\":\"Patient\",%ID%\"name\":[{\"family\":\"Decoy\","
                + "\"family\":\"" + canary + "\"}]}");

        HttpResponse<String> response = send(write(path, FHIR_JSON, body.getBytes(StandardCharsets.UTF_8)));

        assertRefused(response, 400, canary);
        assertUnchanged(path);
    }

    @ParameterizedTest
    @EnumSource(WritePath.class)
    void invalidUtf8IsRefusedWith400(WritePath path) {
        String canary = canary();
        String[] halves = writeBody(path, "{\"resourceType\":\"Patient\",%ID%\"name\":[{\"family\":\"" + canary
                + "SPLIT\"}]}").split("SPLIT");
        // 0xC3 0x28: a two-byte sequence whose second byte is not a continuation byte; HAPI stored U+FFFD.
        byte[] body = concat(halves[0].getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xC3, (byte) 0x28},
                halves[1].getBytes(StandardCharsets.UTF_8));

        HttpResponse<String> response = send(write(path, FHIR_JSON, body));

        assertRefused(response, 400, canary);
        assertUnchanged(path);
    }

    @ParameterizedTest
    @EnumSource(WritePath.class)
    void aCharsetOtherThanUtf8IsRefusedWith415(WritePath path) {
        String canary = canary();
        String body = writeBody(path, "{\"resourceType\":\"Patient\",%ID%\"name\":[{\"family\":\"" + canary + "\"}]}");

        for (String charset : List.of("latin1", "ISO-8859-1", "utf-16", "x-unknown-" + randomLetters())) {
            HttpResponse<String> response = send(write(path, FHIR_JSON + "; charset=" + charset,
                    body.getBytes(StandardCharsets.ISO_8859_1)));
            assertRefused(response, 415, canary, charset);
        }
        assertUnchanged(path);
    }

    @ParameterizedTest
    @EnumSource(WritePath.class)
    void anXmlDoctypeIsRefusedWith400EvenWithoutEntities(WritePath path) {
        String canary = canary();
        // An external DTD that is never used: HAPI accepted it (201) without fetching it.
        String doctype = "<!DOCTYPE Patient SYSTEM \"https://dtd.invalid/" + canary + ".dtd\">";
        String patient = "<Patient xmlns=\"http://hl7.org/fhir\">%ID%<name><family value=\"" + canary
                + "\"/></name></Patient>";
        String body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + doctype + xmlWriteBody(path, patient);

        HttpResponse<String> response = send(write(path, FHIR_XML, body.getBytes(StandardCharsets.UTF_8)));

        assertRefused(response, 400, canary);
        assertUnchanged(path);
    }

    @ParameterizedTest
    @EnumSource(WritePath.class)
    void aCompressedBodyIsRefusedWith415(WritePath path) throws IOException {
        String canary = canary();
        // A small, valid, gzip-compressed resource: HAPI inflated and stored it.
        byte[] body = gzip(writeBody(path, "{\"resourceType\":\"Patient\",%ID%\"name\":[{\"family\":\"" + canary
                + "\"}]}").getBytes(StandardCharsets.UTF_8));

        for (String coding : List.of("gzip", "deflate", "br", "x-gzip")) {
            HttpResponse<String> response = send(write(path, FHIR_JSON, body).header("Content-Encoding", coding));
            assertRefused(response, 415, canary);
        }
        assertUnchanged(path);
    }

    @Test
    void aGzipBombIsRefusedWith415BeforeItIsInflated() throws IOException {
        // About 1 MB on the wire, 1 GiB inflated: 1024 gzip members of 1 MiB of zeros each.
        byte[] member = gzip(new byte[1024 * 1024]);
        java.io.ByteArrayOutputStream bomb = new java.io.ByteArrayOutputStream(member.length * 1024);
        for (int i = 0; i < 1024; i++) {
            bomb.write(member);
        }

        HttpResponse<String> response = send(write(WritePath.CREATE, FHIR_JSON, bomb.toByteArray())
                .header("Content-Encoding", "gzip"));

        assertRefused(response, 415);
    }

    private IdType existing;

    private HttpRequest.Builder write(WritePath path, String contentType, byte[] body) {
        String target = switch (path) {
            case CREATE -> "/fhir/Patient";
            case UPDATE -> "/fhir/Patient/" + existingPatient().getIdPart();
            case TRANSACTION -> "/fhir";
        };
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(target))
                .header("Content-Type", contentType)
                .header("X-Request-ID", clientRequestId);
        return path == WritePath.UPDATE ? request.PUT(BodyPublishers.ofByteArray(body))
                : request.POST(BodyPublishers.ofByteArray(body));
    }

    /** A Patient for the update path, created before the starting point is taken again. */
    private IdType existingPatient() {
        if (existing == null) {
            Patient original = new Patient();
            original.addName().setFamily("Unchanged");
            existing = (IdType) fhirClient().create().resource(original).execute().getId();
            before = storedRows();
        }
        return existing;
    }

    /** The JSON resource as the body of {@code path}: with the existing id for an update, in a Bundle for a transaction. */
    private String writeBody(WritePath path, String resource) {
        return switch (path) {
            case CREATE -> resource.replace("%ID%", "");
            case UPDATE -> resource.replace("%ID%", "\"id\":\"" + existingPatient().getIdPart() + "\",");
            case TRANSACTION -> "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
                    + resource.replace("%ID%", "") + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}";
        };
    }

    private String xmlWriteBody(WritePath path, String resource) {
        return switch (path) {
            case CREATE -> resource.replace("%ID%", "");
            case UPDATE -> resource.replace("%ID%", "<id value=\"" + existingPatient().getIdPart() + "\"/>");
            case TRANSACTION -> "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"transaction\"/><entry><resource>"
                    + resource.replace("%ID%", "") + "</resource><request><method value=\"POST\"/>"
                    + "<url value=\"Patient\"/></request></entry></Bundle>";
        };
    }

    /** For an update, the existing Patient is still at its first version with its first name. */
    private void assertUnchanged(WritePath path) {
        if (path == WritePath.UPDATE) {
            Patient current = fhirClient().read().resource(Patient.class).withId(existing.getIdPart()).execute();
            assertThat(current.getMeta().getVersionId()).isEqualTo("1");
            assertThat(current.getNameFirstRep().getFamily()).isEqualTo("Unchanged");
        }
    }

    private static byte[] gzip(byte[] content) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gzip = new java.util.zip.GZIPOutputStream(out)) {
            gzip.write(content);
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    // --- assertions ---------------------------------------------------------------------------

    private void assertRefused(HttpResponse<String> response, int status, String... sent) {
        assertRefused(RawHttp.Response.of(response), status, sent);
    }

    private void assertRefused(RawHttp.Response response, int status, String... sent) {
        assertThat(response.status()).as("status; body: %s", response.body()).isEqualTo(status);
        OperationOutcome outcome = Refusals.outcomeOf(response);

        List<String> unique = new ArrayList<>(List.of(sent));
        unique.add(clientRequestId);
        for (String value : unique) {
            assertThat(response.body()).as("response body").doesNotContain(value);
            response.headers().forEach((name, headerValue) ->
                    assertThat(headerValue).as("response header %s", name).doesNotContain(value));
        }
        // The one request id a client sees is the server's, in the header and in the outcome alike.
        String requestId = response.header("X-Request-Id").orElseThrow();
        assertThat(outcome.getIssueFirstRep().getDiagnostics()).contains(requestId);

        assertThat(storedRows()).as("rows in the record tables after the refusal").isEqualTo(before);

        assertThat(output.getAll()).as("captured log output").contains(captureProbe);
        for (String value : unique) {
            assertThat(output.getAll()).as("captured log output").doesNotContain(value);
        }
    }

    private StoredRows storedRows() {
        return JdbcClient.create(dataSource)
                .sql("select (select count(*) from phi.resource), (select count(*) from phi.resource_version), "
                        + "(select count(*) from phi_index.token)")
                .query((rs, n) -> new StoredRows(rs.getLong(1), rs.getLong(2), rs.getLong(3)))
                .single();
    }

    // --- requests -----------------------------------------------------------------------------

    private HttpRequest.Builder get(String path) {
        return HttpRequest.newBuilder(uri(path)).header("X-Request-ID", clientRequestId).GET();
    }

    private HttpRequest.Builder post(String path, String contentType, String body) {
        return HttpRequest.newBuilder(uri(path))
                .header("Content-Type", contentType)
                .header("X-Request-ID", clientRequestId)
                .POST(BodyPublishers.ofString(body));
    }

    private SSLSocket tlsSocket() throws IOException {
        SSLSocket socket = (SSLSocket) TestInstallation.trustingSslContext(TestInstallation.dataDir())
                .getSocketFactory().createSocket("localhost", port);
        socket.setSoTimeout(20_000);
        return socket;
    }

    private byte[] requestHead(String requestLine, String framing) {
        return (requestLine + " HTTP/1.1\r\n"
                + "Host: localhost\r\n"
                + "Authorization: Bearer " + token() + "\r\n"
                + "Content-Type: " + FHIR_JSON + "\r\n"
                + "X-Request-ID: " + clientRequestId + "\r\n"
                + framing + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static void writeChunked(OutputStream out, byte[] body) throws IOException {
        int chunk = 64 * 1024;
        for (int offset = 0; offset < body.length; offset += chunk) {
            int length = Math.min(chunk, body.length - offset);
            out.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body, offset, length);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    // --- bodies -------------------------------------------------------------------------------

    private static String canary() {
        return "canary" + UUID.randomUUID().toString().replace("-", "");
    }

    private static String randomLetters() {
        StringBuilder letters = new StringBuilder();
        for (char c : UUID.randomUUID().toString().replace("-", "").toCharArray()) {
            letters.append((char) ('a' + Character.digit(c, 16)));
        }
        return letters.toString();
    }

    /** A valid Patient, padded with whitespace between its elements to exactly {@code size} bytes. */
    private static byte[] patientPaddedTo(int size, String family) {
        String head = "{\"resourceType\":\"Patient\",";
        String tail = "\"name\":[{\"family\":\"" + family + "\"}]}";
        int padding = size - head.length() - tail.length();
        return (head + " ".repeat(padding) + tail).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * A valid Patient whose deepest object or array is exactly {@code depth} levels down (as
     * Jackson counts): nested extensions add two levels each, and an object-valued leaf one more.
     */
    private static String patientNestedJson(int depth, String family) {
        int extensionLevels = (depth - 1) / 2;
        boolean objectLeaf = (depth - 1) % 2 == 1;
        StringBuilder json = new StringBuilder("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]");
        for (int i = 0; i < extensionLevels; i++) {
            json.append(",\"extension\":[{\"url\":\"http://example.org/fhir/StructureDefinition/nested\"");
        }
        json.append(objectLeaf ? ",\"valueCodeableConcept\":{\"text\":\"leaf\"}" : ",\"valueString\":\"leaf\"");
        json.append("}]".repeat(extensionLevels));
        String body = json.append('}').toString();
        assertThat(jsonDepth(body)).as("depth of the generated body").isEqualTo(depth);
        return body;
    }

    /** The same in XML, where depth counts elements: Patient, the extensions, valueString. */
    private static String patientNestedXml(int depth, String family) {
        int extensionLevels = depth - 2;
        return "<Patient xmlns=\"http://hl7.org/fhir\">"
                + "<extension url=\"http://example.org/fhir/StructureDefinition/nested\">".repeat(extensionLevels)
                + "<valueString value=\"leaf\"/>"
                + "</extension>".repeat(extensionLevels)
                + "<name><family value=\"" + family + "\"/></name></Patient>";
    }

    /** Deepest nesting of objects and arrays, counted as Jackson counts it. */
    private static int jsonDepth(String json) {
        int depth = 0;
        int deepest = 0;
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                deepest = Math.max(deepest, ++depth);
            } else if (c == '}' || c == ']') {
                depth--;
            }
        }
        return deepest;
    }
}
