package health.carapace.records.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import health.carapace.testing.IntegrationTest;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

/**
 * A page of search results is written with its records' stored JSON (issue 13, {@link StoredBundle}):
 * the same Bundle HAPI writes (links, total, entries, include mode, later pages), each entry's
 * resource byte for byte what a read returns, and never the stored bytes of a record holding an SSN
 * to a caller without {@code view:ssn}; shaping parameters, pretty printing and XML are still HAPI's.
 * Whether the stored path answered shows in the response: HAPI's encoder streams (chunked), the
 * stored page goes out with its length.
 */
class SearchPagesAnswerWithTheStoredJsonTest extends IntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SSN = "871-23-4503";

    private final String system = "urn:test:stored-bundle:" + UUID.randomUUID();

    @Test
    void aSearchPageIsTheBundleHapiWritesWithEachRecordAsStored() throws Exception {
        List<String> ids = new ArrayList<>();
        for (String family : List.of("Amsel", "Drossel", "Fink")) {
            Patient patient = new Patient();
            patient.addIdentifier().setSystem(system).setValue("shared");
            patient.addName().setFamily(family);
            ids.add(fhirClient().create().resource(patient).execute().getId().getIdPart());
        }
        String search = "/fhir/Patient?identifier=" + system + "%7Cshared";

        HttpResponse<String> stored = get(search, token());
        HttpResponse<String> hapi = get(search + "&_pretty=false", token());

        assertThat(stored.statusCode()).isEqualTo(200);
        assertThat(stored.headers().firstValue("Content-Length")).as("the stored path answered").isPresent();
        assertThat(hapi.headers().firstValue("Content-Length")).as("HAPI's encoder answered").isEmpty();
        assertThat(stored.headers().firstValue("Content-Type")).isEqualTo(hapi.headers().firstValue("Content-Type"));
        assertThat(stored.headers().firstValue("Last-Modified")).as("as HAPI sends it for a Bundle").isPresent();
        assertThat(hapi.headers().firstValue("Last-Modified")).isPresent();
        assertThat(withoutVaryingParts(stored.body())).as("the same text, field for field")
                .isEqualTo(withoutVaryingParts(hapi.body()));
        JsonNode page = JSON.readTree(stored.body());
        assertThat(page.get("total").asInt()).isEqualTo(3);
        for (JsonNode entry : page.get("entry")) {
            String id = entry.get("resource").get("id").asText();
            assertThat(ids).contains(id);
            assertThat(entry.get("resource").toString()).as("as a read returns it")
                    .isEqualTo(get("/fhir/Patient/" + id, token()).body());
        }

        // a later page, through the opaque page link
        HttpResponse<String> first = get(search + "&_count=1", token());
        String next = null;
        for (JsonNode link : JSON.readTree(first.body()).get("link")) {
            if (link.get("relation").asText().equals("next")) {
                next = link.get("url").asText();
            }
        }
        assertThat(next).isNotNull();
        HttpResponse<String> second = sendWithoutToken(HttpRequest.newBuilder(java.net.URI.create(next))
                .header("Authorization", "Bearer " + token()).GET());
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.headers().firstValue("Content-Length")).as("a later page too").isPresent();
        assertThat(JSON.readTree(second.body()).get("entry")).hasSize(1);
        HttpResponse<String> secondByHapi = sendWithoutToken(HttpRequest.newBuilder(java.net.URI.create(next + "&_pretty=false"))
                .header("Authorization", "Bearer " + token()).GET());
        assertThat(withoutVaryingParts(second.body())).isEqualTo(withoutVaryingParts(secondByHapi.body()));

        // a count alone (HAPI loads a page, then writes only type and total), and a compressed answer
        HttpResponse<String> count = get(search + "&_count=0", token());
        assertThat(count.body()).contains("\"total\":3").doesNotContain("\"entry\"").doesNotContain("Amsel");
        assertThat(count.headers().firstValue("Content-Length")).isEmpty();
        HttpResponse<byte[]> gzip = sendBytes(HttpRequest.newBuilder(uri(search)).header("Authorization", "Bearer " + token())
                .header("Accept-Encoding", "gzip").GET());
        assertThat(gzip.headers().firstValue("Content-Encoding")).as("compressed by HAPI, as asked").hasValue("gzip");
    }

    @Test
    void includedRecordsKeepTheirModeAndTheirStoredJson() throws Exception {
        Patient patient = new Patient();
        patient.addName().setFamily("Kleiber");
        String patientId = fhirClient().create().resource(patient).execute().getId().getIdPart();
        Observation observation = new Observation();
        observation.setStatus(Observation.ObservationStatus.FINAL);
        observation.getCode().setText("stored bundle include");
        observation.setSubject(new Reference("Patient/" + patientId));
        fhirClient().create().resource(observation).execute();
        String search = "/fhir/Observation?subject=Patient/" + patientId + "&_include=Observation:subject";

        HttpResponse<String> stored = get(search, token());
        HttpResponse<String> hapi = get(search + "&_pretty=false", token());

        assertThat(stored.headers().firstValue("Content-Length")).isPresent();
        assertThat(withoutVaryingParts(stored.body())).isEqualTo(withoutVaryingParts(hapi.body()));
        assertThat(withoutVaryingParts(stored.body())).startsWith("{BUNDLE}");
        List<String> modes = new ArrayList<>();
        JSON.readTree(stored.body()).get("entry").forEach(entry -> modes.add(entry.get("search").get("mode").asText()));
        assertThat(modes).containsExactlyInAnyOrder("match", "include");
    }

    @Test
    void aPageHoldingAnSsnIsMaskedForACallerWithoutViewSsn() {
        Patient patient = new Patient();
        patient.addIdentifier().setSystem(system).setValue("with-ssn");
        patient.addIdentifier().setSystem("http://hl7.org/fhir/sid/us-ssn").setValue(SSN);
        fhirClient().create().resource(patient).execute();
        // and one without: on the same page, its verdict spares it the masking walk, not the masking
        Patient without = new Patient();
        without.addIdentifier().setSystem(system).setValue("with-ssn");
        without.addName().setFamily("Ohne");
        fhirClient().create().resource(without).execute();
        String search = "/fhir/Patient?identifier=" + system + "%7Cwith-ssn";

        HttpResponse<String> masked = get(search, tokenWithRoles("stored-bundle-no-ssn", "records-service"));
        HttpResponse<String> visible = get(search, token());

        assertThat(masked.statusCode()).isEqualTo(200);
        assertThat(masked.body()).doesNotContain(SSN).contains("***-**-4503").contains("Ohne");
        assertThat(masked.headers().firstValue("Content-Length")).as("masked by HAPI's path, never the stored bytes")
                .isEmpty();
        assertThat(visible.body()).as("with view:ssn").contains(SSN);
        assertThat(visible.headers().firstValue("Content-Length")).isPresent();
    }

    @Test
    void shapingParametersPrettyPrintingAndXmlAreStillHapis() {
        Patient patient = new Patient();
        patient.addIdentifier().setSystem(system).setValue("shaped");
        patient.addName().setFamily("Zeisig");
        patient.setGender(org.hl7.fhir.r4.model.Enumerations.AdministrativeGender.FEMALE);
        fhirClient().create().resource(patient).execute();
        String search = "/fhir/Patient?identifier=" + system + "%7Cshaped";

        HttpResponse<String> elements = get(search + "&_elements=gender", token());
        HttpResponse<String> summary = get(search + "&_summary=count", token());
        HttpResponse<String> pretty = get(search + "&_pretty=true", token());
        HttpResponse<String> xml = sendWithoutToken(HttpRequest.newBuilder(uri(search))
                .header("Authorization", "Bearer " + token()).header("Accept", "application/fhir+xml").GET());

        assertThat(elements.body()).contains("female").doesNotContain("Zeisig");
        assertThat(summary.body()).doesNotContain("\"entry\"").contains("\"total\":1");
        assertThat(pretty.body()).contains("\n");
        assertThat(xml.body()).startsWith("<Bundle xmlns=\"http://hl7.org/fhir\">").contains("Zeisig");
        for (HttpResponse<String> response : List.of(elements, summary, pretty, xml)) {
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Length")).isEmpty();
        }
    }

    private HttpResponse<String> get(String path, String token) {
        return sendWithoutToken(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + token).GET());
    }

    /**
     * The Bundle's text without what differs between two searches: its id, its time and its links'
     * opaque page ids (and the {@code _pretty} that asked for HAPI's writing). Compared as text, so
     * the order of fields counts too.
     */
    private static String withoutVaryingParts(String body) {
        return body.replaceFirst("^\\{\"resourceType\":\"Bundle\",\"id\":\"[^\"]+\",\"meta\":\\{\"lastUpdated\":\"[^\"]+\"}",
                        "{BUNDLE}")
                .replaceAll("_getpages=[^&\"]+", "_getpages=PAGES")
                // a page's self link repeats what was asked, and the HAPI-written page was asked with _pretty
                .replace("&_pretty=false", "");
    }

    private HttpResponse<byte[]> sendBytes(HttpRequest.Builder request) {
        try {
            return http().send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
