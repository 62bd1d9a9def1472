package health.carapace.crypto.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.http.impl.client.HttpClients;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * Helpers for the key rotation tests, each of which runs a server on a PostgreSQL cluster of its
 * own: a rotation touches every key and record, which other test classes must not see.
 */
abstract class RotationServer {

    @LocalServerPort
    int port;

    @Autowired
    ServiceClients serviceClients;

    private String token;

    abstract DevEnvironment installation();

    /** A database connection as the owner (sees both phi and keyring; tests only). */
    JdbcClient owner() {
        Map<String, Object> p = installation().properties();
        return JdbcClient.create(new DriverManagerDataSource((String) p.get("carapace.db.url"), DevDatabase.OWNER, ""));
    }

    synchronized IGenericClient fhirClient() {
        FhirContext context = FhirContext.forR4();
        context.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
        context.getRestfulClientFactory().setSocketTimeout(60_000);
        context.getRestfulClientFactory().setHttpClient(HttpClients.custom()
                .setSSLContext(TestInstallation.trustingSslContext(installation().dataDir())).build());
        IGenericClient client = context.newRestfulGenericClient("https://localhost:" + port + "/fhir");
        client.registerInterceptor(new BearerTokenAuthInterceptor(token()));
        return client;
    }

    private synchronized String token() {
        if (token != null) {
            return token;
        }
        // records-service: the dev role for system-to-system clients (every record permission, all patients).
        ServiceClients.Credentials credentials = serviceClients.create("rotation-test-" + UUID.randomUUID(),
                java.util.Set.of("records-service"));
        String basic = Base64.getEncoder().encodeToString(
                (credentials.clientId() + ":" + credentials.clientSecret()).getBytes(UTF_8));
        try {
            HttpResponse<String> response = HttpClient.newBuilder()
                    .sslContext(TestInstallation.trustingSslContext(installation().dataDir())).build()
                    .send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/oauth2/token"))
                            .header("Authorization", "Basic " + basic)
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
                            .build(), HttpResponse.BodyHandlers.ofString());
            Matcher m = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"").matcher(response.body());
            if (response.statusCode() != 200 || !m.find()) {
                throw new IllegalStateException("token request failed: " + response.statusCode());
            }
            token = m.group(1);
            return token;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Family names shared by several patients each, so that searches return groups. */
    static String family(int i) {
        return "Rotafam" + (char) ('a' + i % 7) + "x";
    }

    /**
     * Creates {@code count} patients, each with one observation, in transaction bundles; returns
     * the patient ids in order.
     */
    List<String> createPatients(IGenericClient client, int count) {
        List<String> ids = new ArrayList<>();
        for (int start = 0; start < count; start += 50) {
            Bundle bundle = new Bundle().setType(Bundle.BundleType.TRANSACTION);
            int end = Math.min(count, start + 50);
            for (int i = start; i < end; i++) {
                Patient patient = new Patient();
                patient.addName().setFamily(family(i)).addGiven("G" + i);
                patient.addIdentifier().setSystem("urn:rotation-test").setValue("mrn-" + i);
                patient.setGender(Enumerations.AdministrativeGender.UNKNOWN);
                String fullUrl = "urn:uuid:" + UUID.randomUUID();
                bundle.addEntry().setFullUrl(fullUrl).setResource(patient).getRequest()
                        .setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
                Observation observation = new Observation();
                observation.setStatus(Observation.ObservationStatus.FINAL);
                observation.getCode().addCoding().setSystem("http://loinc.org").setCode("8867-4");
                observation.setSubject(new Reference(fullUrl));
                bundle.addEntry().setResource(observation).getRequest().setMethod(Bundle.HTTPVerb.POST)
                        .setUrl("Observation");
            }
            Bundle response = client.transaction().withBundle(bundle).execute();
            for (Bundle.BundleEntryComponent entry : response.getEntry()) {
                String location = entry.getResponse().getLocation();
                if (location.startsWith("Patient/")) {
                    ids.add(location.split("/")[1]);
                }
            }
        }
        return ids;
    }

    static int index(String family) {
        return family.charAt("Rotafam".length()) - 'a';
    }
}
