package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Conformance proved with HAPI's own validator ({@link FhirInstanceValidator} over the core
 * profiles with terminology support): every kind of response the server produces (reads, vreads,
 * searches with includes, the three levels of history, {@code $everything}, the
 * CapabilityStatement, transaction and batch responses, conditional and patch answers, and the
 * OperationOutcome of every kind of refusal) is validated, and any error fails the test.
 */
class ConformanceTest extends IntegrationTest {

    private static FhirValidator validator;

    @BeforeAll
    static void theOfficialValidator() {
        FhirContext context = FhirContext.forR4Cached();
        ValidationSupportChain support = new ValidationSupportChain(
                new DefaultProfileValidationSupport(context),
                new CommonCodeSystemsTerminologyService(context),
                new InMemoryTerminologyServerValidationSupport(context),
                new SnapshotGeneratingValidationSupport(context));
        FhirInstanceValidator instanceValidator = new FhirInstanceValidator(support);
        validator = context.newValidator().registerValidatorModule(instanceValidator);
    }

    @Test
    void everyKindOfResponseIsValidFhir() {
        String stem = "Conf" + Fakes.letters(8);
        List<HttpResponse<String>> responses = new ArrayList<>();
        HttpResponse<String> practitioner = post("Practitioner", "{\"resourceType\":\"Practitioner\",\"name\":[{\"family\":\""
                + stem + "\"}]}", null);
        responses.add(practitioner);
        String practitionerId = id(practitioner);
        HttpResponse<String> patient = post("Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
                + "\"urn:zq:mrn\",\"value\":\"MRN-" + stem + "\"},{\"system\":\"http://hl7.org/fhir/sid/us-ssn\",\"value\":\"9"
                + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + Fakes.digits(4) + "\"}],\"name\":[{\"family\":\"" + stem
                + "\",\"given\":[\"Ada\"]}],\"gender\":\"female\",\"birthDate\":\"1970-01-02\"}", null);
        responses.add(patient);
        String patientId = id(patient);
        String observation = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
                + "\"http://loinc.org\",\"code\":\"8867-4\",\"display\":\"Heart rate\"}]},\"subject\":{\"reference\":"
                + "\"Patient/" + patientId + "\"},\"effectiveDateTime\":\"2024-01-02\",\"performer\":[{\"reference\":"
                + "\"Practitioner/" + practitionerId + "\"}],\"valueQuantity\":{\"value\":72,\"unit\":\"/min\",\"system\":"
                + "\"http://unitsofmeasure.org\",\"code\":\"/min\"}}";
        HttpResponse<String> created = post("Observation", observation, null);
        responses.add(created);
        String observationId = id(created);
        responses.add(post("Observation", observation, "code=" + enc("http://loinc.org|8867-4") + "&patient=" + patientId));
        responses.add(send(HttpRequest.newBuilder(uri("/fhir/Observation/" + observationId))
                .header("Content-Type", "application/json-patch+json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("[{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"amended\"}]"))));
        for (String path : List.of("metadata", "Patient/" + patientId, "Patient/" + patientId + "/_history/1",
                "Patient/" + patientId + "/_history", "Patient/_history?_count=5", "_history?_count=5",
                "Observation?patient=" + patientId + "&_include=Observation:patient&_include=Observation:performer",
                "Patient?_id=" + patientId + "&_revinclude=Observation:patient",
                "Observation?patient=" + patientId + "&_sort=-date",
                "Patient/" + patientId + "/$everything", "Patient/" + patientId + "/$everything?_count=1",
                "Practitioner?name=" + stem.toLowerCase(),
                // refusals
                "Patient/" + UUID.randomUUID(), "Patient?zqunknown=1", "Patient?_include=zq", "Zq/1",
                "Observation?patient=" + patientId + "&_sort=zq", "Patient/$meta")) {
            responses.add(get(path));
        }
        String transaction = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"fullUrl\":"
                + "\"urn:uuid:7d3f0b7e-1c7a-4e57-9f0e-2b1d4c5a6e70\",\"resource\":{\"resourceType\":\"Patient\",\"name\":[{"
                + "\"family\":\"" + stem + "t\"}]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},{\"request\":{"
                + "\"method\":\"GET\",\"url\":\"Patient/" + patientId + "\"}}]}";
        responses.add(send(HttpRequest.newBuilder(uri("/fhir")).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(transaction))));
        responses.add(send(HttpRequest.newBuilder(uri("/fhir")).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(transaction.replace("\"transaction\"", "\"batch\"")))));
        responses.add(send(HttpRequest.newBuilder(uri("/fhir/Patient/" + patientId))
                .header("Content-Type", "application/json-patch+json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("[{\"op\":\"replace\",\"path\":\"/id\",\"value\":\"x\"}]"))));
        responses.add(sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient/" + patientId)).GET()));

        List<String> errors = new ArrayList<>();
        for (HttpResponse<String> response : responses) {
            if (response.body() == null || response.body().isBlank()) {
                continue;
            }
            ValidationResult result = validator.validateWithResult(response.body());
            for (SingleValidationMessage message : result.getMessages()) {
                if (message.getSeverity() == ResultSeverityEnum.ERROR || message.getSeverity() == ResultSeverityEnum.FATAL) {
                    errors.add(response.request().method() + " " + response.request().uri().getPath() + " ("
                            + response.statusCode() + "): " + message.getLocationString() + " " + message.getMessage());
                }
            }
        }
        assertThat(errors).isEmpty();
    }

    private HttpResponse<String> post(String type, String json, String ifNoneExist) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/fhir/" + type))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (ifNoneExist != null) {
            request.header("If-None-Exist", ifNoneExist);
        }
        return send(request);
    }

    private HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri("/fhir/" + path)).GET());
    }

    private String id(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
