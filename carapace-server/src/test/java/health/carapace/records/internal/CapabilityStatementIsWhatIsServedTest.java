package health.carapace.records.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestResourceSearchParamComponent;
import org.junit.jupiter.api.Test;

/**
 * The CapabilityStatement claims nothing the server does not do: every type it lists is served,
 * every search parameter, {@code _include} and {@code _revinclude} value it lists is accepted, every
 * type-level interaction it lists answers (404 for a record that does not exist, never 400 or 405),
 * and every served type is listed. Each request is narrowed by a random {@code _id}, so nothing is
 * found and only acceptance is tested.
 */
class CapabilityStatementIsWhatIsServedTest extends IntegrationTest {

    @Test
    void everythingTheStatementListsIsServedAndEveryServedTypeIsListed() {
        CapabilityStatement statement = fhir.newJsonParser().parseResource(CapabilityStatement.class,
                get("metadata").body());
        List<CapabilityStatementRestResourceComponent> resources = statement.getRestFirstRep().getResource();
        Set<String> listed = new HashSet<>();
        List<String> failures = new ArrayList<>();
        for (CapabilityStatementRestResourceComponent resource : resources) {
            String type = resource.getType();
            listed.add(type);
            if (type.equals("AuditEvent")) {
                continue; // its own provider and permission (view:audit), tested in the audit module
            }
            String narrow = type + "?_id=" + UUID.randomUUID();
            for (CapabilityStatementRestResourceSearchParamComponent param : resource.getSearchParam()) {
                String value = switch (param.getType()) {
                    case TOKEN -> param.getName().equals("_id") ? UUID.randomUUID().toString() : "zq";
                    case STRING -> "zqx";
                    case DATE -> "2020-01-01";
                    case REFERENCE -> "Patient/" + UUID.randomUUID();
                    default -> "zq";
                };
                expect(failures, narrow + "&" + param.getName() + "=" + enc(value), 200);
            }
            for (var include : resource.getSearchInclude()) {
                expect(failures, narrow + "&_include=" + enc(include.getValue()), 200);
            }
            for (var include : resource.getSearchRevInclude()) {
                expect(failures, narrow + "&_revinclude=" + enc(include.getValue()), 200);
            }
            for (var interaction : resource.getInteraction()) {
                switch (interaction.getCode()) {
                    case READ -> expect(failures, type + "/" + UUID.randomUUID(), 404);
                    case VREAD -> expect(failures, type + "/" + UUID.randomUUID() + "/_history/1", 404);
                    case HISTORYINSTANCE -> expect(failures, type + "/" + UUID.randomUUID() + "/_history", 404);
                    case HISTORYTYPE -> expect(failures, type + "/_history?_since=2999-01-01T00:00:00Z", 200);
                    case SEARCHTYPE -> expect(failures, narrow, 200);
                    case DELETE -> expectStatus(failures, "DELETE", type + "/" + UUID.randomUUID(), null, 404);
                    case PATCH -> expectStatus(failures, "PATCH", type + "/" + UUID.randomUUID(),
                            "[{\"op\":\"add\",\"path\":\"/language\",\"value\":\"en\"}]", 404);
                    default -> { } // create and update: every test that writes a record
                }
            }
            for (var operation : resource.getOperation()) {
                if (operation.getName().equals("everything")) {
                    expect(failures, type + "/" + UUID.randomUUID() + "/$everything", 404);
                }
            }
            assertThat(resource.getConditionalCreate()).isTrue();
        }
        expect(failures, "_history?_since=2999-01-01T00:00:00Z", 200);
        assertThat(failures).isEmpty();
        Set<String> served = new HashSet<>(ResourceTypes.names());
        served.add("AuditEvent");
        assertThat(listed).isEqualTo(served);
        // every reference the include table follows is listed, and nothing else
        for (String type : ResourceTypes.names()) {
            CapabilityStatementRestResourceComponent resource = resources.stream()
                    .filter(r -> r.getType().equals(type)).findFirst().orElseThrow();
            assertThat(resource.getSearchInclude()).extracting(i -> i.getValue())
                    .containsExactlyInAnyOrderElementsOf(IncludeCatalog.forSource(type).values().stream()
                            .map(IncludeCatalog.Ref::value).toList());
        }
    }

    /**
     * Each request method a batch entry may carry is served exactly when the statement's batch and
     * transaction documentation names it: an entry of a named method is answered on its own terms
     * (201, 404, 405), one of any other method is refused as unsupported (400).
     */
    @Test
    void theBundleEntriesTheStatementNamesAreServedAndNoOthers() {
        CapabilityStatement statement = fhir.newJsonParser().parseResource(CapabilityStatement.class,
                get("metadata").body());
        java.util.Map<String, String> documented = new java.util.HashMap<>();
        for (var interaction : statement.getRestFirstRep().getInteraction()) {
            documented.put(interaction.getCode().toCode(), interaction.getDocumentation());
        }
        assertThat(documented.get("transaction")).startsWith(CapabilityStatementProvider.BUNDLE_ENTRIES);
        assertThat(documented.get("batch")).startsWith(CapabilityStatementProvider.BUNDLE_ENTRIES);
        String missing = "Device/" + UUID.randomUUID();
        java.util.Map<String, String> entries = new java.util.LinkedHashMap<>();
        entries.put("POST", "{\"resource\":{\"resourceType\":\"Device\",\"status\":\"inactive\"},"
                + "\"request\":{\"method\":\"POST\",\"url\":\"Device\"}}");
        entries.put("PUT", "{\"resource\":{\"resourceType\":\"Device\",\"id\":\"" + missing.substring(7) + "\"},"
                + "\"request\":{\"method\":\"PUT\",\"url\":\"" + missing + "\"}}");
        entries.put("PATCH", "{\"resource\":{\"resourceType\":\"Binary\",\"contentType\":\"application/json-patch+json\","
                + "\"data\":\"" + java.util.Base64.getEncoder().encodeToString(
                        "[{\"op\":\"remove\",\"path\":\"/status\"}]".getBytes(StandardCharsets.UTF_8))
                + "\"},\"request\":{\"method\":\"PATCH\",\"url\":\"" + missing + "\"}}");
        entries.put("DELETE", "{\"request\":{\"method\":\"DELETE\",\"url\":\"" + missing + "\"}}");
        entries.put("GET", "{\"request\":{\"method\":\"GET\",\"url\":\"" + missing + "\"}}");
        entries.put("HEAD", "{\"request\":{\"method\":\"HEAD\",\"url\":\"" + missing + "\"}}");
        for (var entry : entries.entrySet()) {
            HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir"))
                    .header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Bundle\",\"type\":\"batch\","
                            + "\"entry\":[" + entry.getValue() + "]}")));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            String status = fhir.newJsonParser().parseResource(org.hl7.fhir.r4.model.Bundle.class, response.body())
                    .getEntryFirstRep().getResponse().getStatus();
            boolean named = java.util.regex.Pattern.compile("\\b" + entry.getKey() + " \\(")
                    .matcher(CapabilityStatementProvider.BUNDLE_ENTRIES).find();
            assertThat(!status.startsWith("400")).as(entry.getKey() + " answered " + status).isEqualTo(named);
        }
    }

    private void expect(List<String> failures, String path, int status) {
        HttpResponse<String> response = get(path);
        if (response.statusCode() != status) {
            failures.add("GET " + path + " answered " + response.statusCode());
        }
    }

    private void expectStatus(List<String> failures, String method, String path, String body, int status) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/fhir/" + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json-patch+json");
        }
        HttpResponse<String> response = send(request);
        if (response.statusCode() != status) {
            failures.add(method + " " + path + " answered " + response.statusCode());
        }
    }

    private HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri("/fhir/" + path)).GET());
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
