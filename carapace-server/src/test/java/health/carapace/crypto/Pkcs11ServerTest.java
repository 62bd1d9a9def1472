package health.carapace.crypto;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import health.carapace.CarapaceApplication;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.SoftHsm;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TokenInspector;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import org.apache.http.impl.client.HttpClients;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The whole server with {@code carapace.kek.provider=pkcs11} against SoftHSM2: the KEK is made in
 * the token at first start and wraps every key the server stores.
 *
 * <p>It runs on a PostgreSQL cluster of its own, not the shared {@link TestInstallation}: other
 * test classes in the JVM fill the shared keyring with keys wrapped by the dev KEK, and with a
 * non-empty keyring the server (rightly) refuses to create a new KEK in the token.
 */
@ExtendWith(SoftHsm.Required.class)
@SpringBootTest(classes = CarapaceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
class Pkcs11ServerTest {

    private static final String KEY_LABEL = "carapace-server-test-kek";
    private static final String KEK_ID = "pkcs11/" + KEY_LABEL;

    private static DevEnvironment installation;

    @LocalServerPort
    int port;

    @Autowired
    ServiceClients serviceClients;

    @Autowired
    KeyEncryptionKey kek;

    @Autowired
    javax.sql.DataSource dataSource;

    @DynamicPropertySource
    static void ownDatabaseAndHsmKek(DynamicPropertyRegistry registry) {
        Map<String, Object> properties = new LinkedHashMap<>(installation().properties());
        properties.remove("carapace.kek.dev-keystore.path");
        properties.putAll(SoftHsm.get().kekProperties(KEY_LABEL));
        properties.put("carapace.access.policy-dir", health.carapace.testing.TestPolicy.directory().toString());
        properties.forEach((key, value) -> registry.add(key, () -> value));
    }

    private static synchronized DevEnvironment installation() {
        if (installation == null) {
            installation = TestInstallation.separate("pkcs11-server-test");
        }
        return installation;
    }

    @Test
    void aPatientCreatedAndReadThroughTheApiIsKeyedUnderTheHsmKek() throws GeneralSecurityException {
        IGenericClient client = fhirClient();
        Patient patient = new Patient();
        patient.addName().setFamily("Tokenheld").addGiven("Grace");
        IdType id = (IdType) client.create().resource(patient).execute().getId();

        Patient read = client.read().resource(Patient.class).withId(id.getIdPart()).execute();

        assertThat(read.getNameFirstRep().getFamily()).isEqualTo("Tokenheld");
        assertThat(kek.id()).isEqualTo(KEK_ID);
        String dekRef = "dek/Patient/" + id.getIdPart();
        Map<String, String> kekIdByKeyRef = keyring().sql("select key_ref, kek_id from keyring.wrapped_key")
                .query((rs, n) -> Map.entry(rs.getString(1), rs.getString(2)))
                .stream().collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        assertThat(kekIdByKeyRef).containsEntry(dekRef, KEK_ID);
        // The keyring started empty, so every key in it, DEKs and system secrets alike, is the token's.
        assertThat(kekIdByKeyRef.values()).containsOnly(KEK_ID);

        // The stored row really is wrapped by the token key: it unwraps under it, bound to its key_ref.
        byte[] wrappedDek = keyring().sql("select wrapped from keyring.wrapped_key where key_ref = ?")
                .param(dekRef).query(byte[].class).single();
        KeysetHandle dek = TinkProtoKeysetFormat.parseEncryptedKeyset(wrappedDek, kek, dekRef.getBytes(UTF_8));
        assertThat(dek.size()).isEqualTo(1);

        SoftHsm.Token token = SoftHsm.get().token(SoftHsm.KEK_TOKEN);
        assertThat(TokenInspector.of(SoftHsm.get().library()).secretKeys(token.slotListIndex(), KEY_LABEL))
                .as("one KEK object in the token under the configured label")
                .singleElement()
                .satisfies(key -> assertThat(key.extractable()).isFalse());
    }

    private JdbcClient keyring() {
        Map<String, Object> properties = installation().properties();
        return JdbcClient.create(new DriverManagerDataSource((String) properties.get("carapace.keyring.url"),
                (String) properties.get("carapace.keyring.owner-username"),
                (String) properties.get("carapace.keyring.owner-password")));
    }

    private IGenericClient fhirClient() {
        FhirContext context = FhirContext.forR4();
        context.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
        context.getRestfulClientFactory().setHttpClient(HttpClients.custom().setSSLContext(trustingSslContext()).build());
        IGenericClient client = context.newRestfulGenericClient("https://localhost:" + port + "/fhir");
        client.registerInterceptor(new BearerTokenAuthInterceptor(accessToken()));
        return client;
    }

    /** A client-credentials token from this server (the shared installation's clients do not exist here). */
    private String accessToken() {
        ServiceClients.Credentials credentials = serviceClients.create("pkcs11-server-test-" + UUID.randomUUID());
        health.carapace.testing.TestPolicy.grant(dataSource, credentials.clientId(), health.carapace.testing.TestPolicy.EVERYTHING);
        String basic = Base64.getEncoder().encodeToString(
                (credentials.clientId() + ":" + credentials.clientSecret()).getBytes(UTF_8));
        try {
            HttpResponse<String> response = HttpClient.newBuilder().sslContext(trustingSslContext()).build()
                    .send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/oauth2/token"))
                            .header("Authorization", "Basic " + basic)
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
                            .build(), HttpResponse.BodyHandlers.ofString());
            Matcher token = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"").matcher(response.body());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(token.find()).isTrue();
            return token.group(1);
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private SSLContext trustingSslContext() {
        return TestInstallation.trustingSslContext(installation().dataDir());
    }
}
