package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.api.MethodOutcome;
import health.carapace.access.CareRelationships;
import health.carapace.audit.AuditContext;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Parameters.ParametersParameterComponent;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Type;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * FHIRPath Patch (issue 17): a Parameters body in JSON or XML, the operations add, insert, delete,
 * replace and move, by the same rules as JSON Patch (decided and audited as an update and as a
 * read, versioned, If-Match honoured, id/resourceType/meta untouchable, malformed documents a 400
 * that stores and echoes nothing).
 */
class FhirPathPatchTest extends IntegrationTest {

    private static final String SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn";

    @Autowired
    CareRelationships relationships;

    private final String stem = "Fpp" + Fakes.letters(8);
    private final String ssn = "9" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + Fakes.digits(4);
    private String patient;

    @BeforeEach
    void aPatientWithTwoNamesAndAnSsn() {
        HttpResponse<String> created = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Authorization", "Bearer " + token()).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"identifier\":["
                        + "{\"system\":\"urn:zq:mrn\",\"value\":\"MRN-" + stem + "\"},{\"system\":\"" + SSN_SYSTEM
                        + "\",\"value\":\"" + ssn + "\"}],\"name\":[{\"family\":\"" + stem + "\",\"given\":[\"Ann\"]},"
                        + "{\"family\":\"" + stem + "b\"}],\"birthDate\":\"1970-01-02\"}")));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        patient = fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
    }

    @Test
    void everyOperationAppliesInJsonAndXmlAsAVersionedUpdateWithIfMatchHonoured() {
        Parameters patch = new Parameters();
        operation(patch, "replace", "Patient.name[0].family", null, new StringType(stem + "x"));
        operation(patch, "insert", "Patient.name[0].given", null, new StringType("Bea")).addPart().setName("index")
                .setValue(new IntegerType(0));
        operation(patch, "add", "Patient", "gender", new CodeType("female"));
        operation(patch, "delete", "Patient.birthDate", null, null);
        operation(patch, "move", "Patient.name", null, null).addPart().setName("source").setValue(new IntegerType(1));
        patch.getParameter().get(4).addPart().setName("destination").setValue(new IntegerType(0));
        HttpResponse<String> json = patch(token(), null, "application/fhir+json", fhir.newJsonParser().encodeResourceToString(patch));
        assertThat(json.statusCode()).as(json.body()).isEqualTo(200);
        Patient after = read(patient);
        assertThat(after.getMeta().getVersionId()).isEqualTo("2");
        assertThat(after.getName()).extracting(HumanName::getFamily).containsExactly(stem + "b", stem + "x");
        assertThat(after.getName().get(1).getGiven()).extracting(StringType::getValue).containsExactly("Bea", "Ann");
        assertThat(after.getGender()).isEqualTo(org.hl7.fhir.r4.model.Enumerations.AdministrativeGender.FEMALE);
        assertThat(after.hasBirthDate()).isFalse();
        assertThat(after.getIdentifier()).anySatisfy(i -> assertThat(i.getValue()).isEqualTo(ssn));

        // a complex value given as parts (a backbone element), in XML, against the version it names
        Parameters xml = new Parameters();
        ParametersParameterComponent contact = operation(xml, "add", "Patient", "contact", null);
        ParametersParameterComponent value = contact.addPart().setName("value");
        value.addPart().setName("gender").setValue(new CodeType("male"));
        value.addPart().setName("name").addPart().setName("family").setValue(new StringType(stem + "c"));
        String xmlBody = fhir.newXmlParser().encodeResourceToString(xml);
        assertThat(patch(token(), "W/\"1\"", "application/fhir+xml", xmlBody).statusCode()).isEqualTo(412);
        HttpResponse<String> applied = patch(token(), "W/\"2\"", "application/fhir+xml", xmlBody);
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        assertThat(applied.headers().firstValue("Content-Type").orElseThrow()).contains("xml");
        assertThat(read(patient).getContactFirstRep().getName().getFamily()).isEqualTo(stem + "c");

        // the HAPI generic client sends the same FHIRPath Patch
        Parameters replaceBirthDate = new Parameters();
        operation(replaceBirthDate, "add", "Patient", "birthDate", new DateType("1980-03-04"));
        MethodOutcome outcome = fhirClient().patch().withFhirPatch(replaceBirthDate)
                .withId(new IdType("Patient", patient)).execute();
        assertThat(outcome.getId().getVersionIdPart()).isEqualTo("4");
        assertThat(read(patient).getBirthDateElement().getValueAsString()).isEqualTo("1980-03-04");
    }

    @Test
    void malformedOrForbiddenPatchesAre400sThatStoreAndEchoNothing() {
        List<String> refused = List.of(
                "{\"resourceType\":\"Parameters\"}",
                "not json zqsecret",
                "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"zqsecret\"}]}",
                "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"zqsecret\",\"valueString\":\"zqsecret\"}]}",
                "{\"resourceType\":\"Parameters\",\"zqsecret\":1}",
                body("zqsecret", "Patient.gender", null, "\"valueCode\":\"male\""),
                body("replace", "Patient.name.where(family='zqsecret')", null, "\"valueString\":\"x\""),
                body("replace", "Patient.name.trace('zqsecret')", null, "\"valueString\":\"x\""),
                body("delete", "Patient.managingOrganization.resolve()", null, null),
                body("replace", "Patient.id", null, "\"valueId\":\"zqsecret\""),
                body("replace", "Patient.meta.versionId", null, "\"valueId\":\"99\""),
                body("delete", "Patient.meta", null, null),
                body("add", "Patient", "meta", "\"valueMeta\":{\"versionId\":\"99\"}"),
                body("add", "Patient", "id", "\"valueId\":\"zqsecret\""),
                body("replace", "Patient", null, "\"valueString\":\"zqsecret\""),
                body("delete", "Patient", null, null),
                body("replace", "Observation.status", null, "\"valueCode\":\"final\""),
                body("replace", "Patient.gender", null, null),
                body("add", "Patient", null, "\"valueCode\":\"male\""),
                body("add", "Patient", "zq secret", "\"valueCode\":\"male\""));
        for (String body : refused) {
            HttpResponse<String> response = patch(token(), null, "application/fhir+json", body);
            assertThat(response.statusCode()).as(body).isEqualTo(400);
            OperationOutcome outcome = Refusals.outcomeOf(response);
            assertThat(outcome.getIssueFirstRep().getSeverity()).isEqualTo(OperationOutcome.IssueSeverity.ERROR);
            assertThat(response.body()).as(body).doesNotContain("zqsecret");
        }
        HttpResponse<String> xmlNotParameters = patch(token(), null, "application/fhir+xml",
                "<Patient xmlns=\"http://hl7.org/fhir\"><gender value=\"zqsecret\"/></Patient>");
        assertThat(xmlNotParameters.statusCode()).isEqualTo(400);
        assertThat(xmlNotParameters.body()).doesNotContain("zqsecret");
        assertThat(patch(token(), null, "application/xml-patch+xml", "<diff/>").statusCode()).isEqualTo(415);
        assertThat(read(patient).getMeta().getVersionId()).isEqualTo("1");
    }

    @Test
    void aPatchThatDoesNotFitTheRecordIsTheOne422AndStoresNothing() {
        for (String body : List.of(
                body("replace", "Patient.name[7].family", null, "\"valueString\":\"zqsecret\""),
                body("delete", "Patient.name", null, null),
                body("replace", "Patient.zqsecret", null, "\"valueString\":\"x\""),
                body("add", "Patient", "birthDate", "\"valueDate\":\"1999-01-01\""),
                body("add", "Patient", "gender", "\"valueCode\":\"zqsecret\""),
                body("insert", "Patient.name", null, "\"valueHumanName\":{\"family\":\"zqsecret\"}},{\"name\":\"index\","
                        + "\"valueInteger\":9"),
                body("move", "Patient.name", null, null).replace("]}]}", ",{\"name\":\"source\",\"valueInteger\":5},"
                        + "{\"name\":\"destination\",\"valueInteger\":0}]}]}"))) {
            HttpResponse<String> response = patch(token(), null, "application/fhir+json", body);
            assertThat(response.statusCode()).as(body).isEqualTo(422);
            assertThat(response.body()).doesNotContain("zqsecret");
        }
        assertThat(read(patient).getMeta().getVersionId()).isEqualTo("1");
    }

    @Test
    void aFhirPathPatchIsDecidedAsAnUpdateAndAReadOfTheRecord() {
        String body = body("replace", "Patient.gender", null, "\"valueCode\":\"other\"");
        AccessEnforcementTest.assertRefused(patch(tokenWithRoles("fpp-edit-only", TestPolicy.EDIT_ONLY), null,
                "application/fhir+json", body), "no-permission");
        assertThat(read(patient).getMeta().getVersionId()).isEqualTo("1");
        // a clinician patches an observation only of a patient in their care
        HttpResponse<String> created = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Observation"))
                .header("Authorization", "Bearer " + token()).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Observation\",\"status\":\"final\","
                        + "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}")));
        assertThat(created.statusCode()).isEqualTo(201);
        String observation = "Observation/" + fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
        ServiceClients.Credentials clinician = client("fpp-clinician", TestPolicy.CLINICIAN);
        String clinicianToken = tokenFor(clinician.clientId(), clinician.clientSecret());
        String amend = body("replace", "Observation.status", null, "\"valueCode\":\"amended\"");
        AccessEnforcementTest.assertRefused(patchAt(observation, clinicianToken, null, "application/fhir+json", amend),
                "no-care-relationship");
        relationships.assign(clinician.clientId(), "Patient/" + patient, "test-admin", AuditContext.none());
        HttpResponse<String> allowed = patchAt(observation, clinicianToken, null, "application/fhir+json", amend);
        assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(200);
        assertThat(eventsOf(allowed)).contains("viewed|Patient/" + patient, "modified|Patient/" + patient);
    }

    @Test
    void aCallerWithoutViewSsnPatchesTheMaskedViewAndCannotOverwriteTheSsn() {
        String frontDesk = tokenWithRoles("fpp-front-desk", "records-service");
        HttpResponse<String> moved = patch(frontDesk, null, "application/fhir+json",
                body("replace", "Patient.name[0].family", null, "\"valueString\":\"" + stem + "m\""));
        assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
        assertThat(moved.body()).doesNotContain(ssn);
        Patient stored = read(patient);
        assertThat(stored.getNameFirstRep().getFamily()).isEqualTo(stem + "m");
        assertThat(stored.getIdentifier()).anySatisfy(i -> assertThat(i.getValue()).isEqualTo(ssn));
    }

    // --- helpers

    private static ParametersParameterComponent operation(Parameters patch, String type, String path, String name,
            Type value) {
        ParametersParameterComponent operation = patch.addParameter().setName("operation");
        operation.addPart().setName("type").setValue(new CodeType(type));
        operation.addPart().setName("path").setValue(new StringType(path));
        if (name != null) {
            operation.addPart().setName("name").setValue(new StringType(name));
        }
        if (value != null) {
            operation.addPart().setName("value").setValue(value);
        }
        return operation;
    }

    /** One operation as JSON; {@code value} is the value part's members (e.g. "valueCode":"x"). */
    private static String body(String type, String path, String name, String value) {
        return "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"operation\",\"part\":["
                + "{\"name\":\"type\",\"valueCode\":\"" + type + "\"},{\"name\":\"path\",\"valueString\":\""
                + path.replace("'", "\\u0027") + "\"}"
                + (name == null ? "" : ",{\"name\":\"name\",\"valueString\":\"" + name + "\"}")
                + (value == null ? "" : ",{\"name\":\"value\"," + value + "}") + "]}]}";
    }

    private HttpResponse<String> patch(String token, String ifMatch, String contentType, String body) {
        return patchAt("Patient/" + patient, token, ifMatch, contentType, body);
    }

    private HttpResponse<String> patchAt(String path, String token, String ifMatch, String contentType, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/fhir/" + path))
                .header("Authorization", "Bearer " + token).header("Content-Type", contentType)
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body));
        if (contentType.contains("xml")) {
            request.header("Accept", "application/fhir+xml");
        }
        if (ifMatch != null) {
            request.header("If-Match", ifMatch);
        }
        return sendWithoutToken(request);
    }

    private Patient read(String id) {
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient/" + id))
                .header("Authorization", "Bearer " + token()).GET());
        assertThat(response.statusCode()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Patient.class, response.body());
    }

    private List<String> eventsOf(HttpResponse<String> response) {
        String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
        return org.springframework.jdbc.core.simple.JdbcClient.create(dataSource)
                .sql("select action || '|' || coalesce(patient, '') from audit.event "
                        + "where convert_from(body, 'UTF8')::jsonb ->> 'request_id' = ?")
                .param(requestId).query(String.class).list();
    }
}
