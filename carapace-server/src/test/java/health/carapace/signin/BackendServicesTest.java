package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.SmartAppBrowser;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SMART Backend Services (issue #18 item 2): a system client proves itself with a JWT it signed
 * with a key from its registered JWKS ({@code private_key_jwt}, ES384 or RS384), asks for
 * {@code system/} scopes within its ceiling, and gets a token that reaches only what both its
 * roles and its scopes allow. Every bad assertion is {@code invalid_client}, nothing echoed.
 */
class BackendServicesTest extends IntegrationTest {

    private ECKey ecKey;
    private RSAKey rsaKey;
    private String clientId;
    private String patientId;

    @BeforeEach
    void register() throws Exception {
        ecKey = new ECKeyGenerator(Curve.P_384).keyID("ec-" + UUID.randomUUID()).generate();
        rsaKey = new RSAKeyGenerator(2048).keyID("rsa-" + UUID.randomUUID()).generate();
        String jwks = new JWKSet(List.<JWK>of(ecKey.toPublicJWK(), rsaKey.toPublicJWK())).toString();
        clientId = serviceClients.createBackend("bulk exporter", Set.of(TestPolicy.EVERYTHING), List.of("system/*.rs"),
                jwks, null);
        Patient patient = new Patient();
        patient.addName().setFamily("Backend" + UUID.randomUUID().toString().replace("-", ""));
        patientId = fhirClient().create().resource(patient).execute().getId().getIdPart();
    }

    private String tokenEndpoint() {
        return baseUrl() + "/oauth2/token";
    }

    private JWTClaimsSet.Builder claims() {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(tokenEndpoint())
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(Duration.ofMinutes(4))))
                .jwtID(UUID.randomUUID().toString());
    }

    private static String sign(JWK key, JWSAlgorithm algorithm, JWTClaimsSet claims) throws Exception {
        JWSSigner signer = key instanceof ECKey ec ? new ECDSASigner(ec) : new RSASSASigner((RSAKey) key);
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(algorithm).keyID(key.getKeyID()).type(JOSEObjectType.JWT)
                .build(), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    private HttpResponse<String> tokenRequest(String assertion, String scope) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "client_credentials");
        if (scope != null) {
            form.put("scope", scope);
        }
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", assertion);
        return sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(SignInBrowser.form(form))));
    }

    @Test
    void aClientSigningWithItsRegisteredKeyGetsATokenNarrowedToItsSystemScopes() throws Exception {
        for (var signed : List.of(sign(ecKey, JWSAlgorithm.ES384, claims().build()),
                sign(rsaKey, JWSAlgorithm.RS384, claims().build()))) {
            HttpResponse<String> issued = tokenRequest(signed, "system/Patient.rs");
            assertThat(issued.statusCode()).as(issued.body()).isEqualTo(200);
            Map<String, Object> json = SmartAppBrowser.json(issued);
            assertThat(json.get("scope")).isEqualTo("system/Patient.rs");
            assertThat(json).doesNotContainKey("refresh_token");
            String access = (String) json.get("access_token");
            assertThat(get("/fhir/Patient/" + patientId, access).statusCode()).isEqualTo(200);
            // The role could read Observations and write Patients; the scopes cannot.
            HttpResponse<String> observations = get("/fhir/Observation?patient=" + patientId, access);
            assertThat(observations.statusCode()).isEqualTo(403);
            assertThat(Refusals.outcomeOf(observations).getIssueFirstRep().getDiagnostics()).contains("outside-app-scope");
            HttpResponse<String> write = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient"))
                    .header("Authorization", "Bearer " + access).header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")));
            assertThat(write.statusCode()).isEqualTo(403);
        }
        // Client-secret clients keep working beside them.
        assertThat(get("/fhir/Patient/" + patientId, tokenWithRoles("secret-client", TestPolicy.EVERYTHING)).statusCode())
                .isEqualTo(200);
    }

    @Test
    void badAssertionsAreRefusedAsInvalidClientAndNothingIsEchoed() throws Exception {
        // Signed when sent: a fresh client every few refusals stays below the failure back-off (JwksUrlTest).
        Map<String, java.util.concurrent.Callable<String>> refusals = new LinkedHashMap<>();
        Instant now = Instant.now();
        refusals.put("wrong aud", () -> sign(ecKey, JWSAlgorithm.ES384, claims().audience(baseUrl() + "/fhir").build()));
        refusals.put("expired", () -> sign(ecKey, JWSAlgorithm.ES384, claims().issueTime(Date.from(now.minusSeconds(600)))
                .expirationTime(Date.from(now.minusSeconds(300))).build()));
        refusals.put("lives longer than 5 minutes", () -> sign(ecKey, JWSAlgorithm.ES384, claims()
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(30)))).build()));
        refusals.put("no jti", () -> sign(ecKey, JWSAlgorithm.ES384, claims().jwtID(null).build()));
        refusals.put("sub is another client", () -> sign(ecKey, JWSAlgorithm.ES384, claims().subject("svc-other").build()));
        refusals.put("no exp", () -> sign(ecKey, JWSAlgorithm.ES384, claims().expirationTime(null).build()));
        refusals.put("a key that was not registered", () -> sign(new ECKeyGenerator(Curve.P_384)
                .keyID(ecKey.getKeyID()).generate(), JWSAlgorithm.ES384, claims().build()));
        refusals.put("RS256 is not offered", () -> sign(rsaKey, JWSAlgorithm.RS256, claims().build()));
        refusals.put("PS384 is not offered", () -> sign(rsaKey, JWSAlgorithm.PS384, claims().build()));
        refusals.put("not a JWT", () -> "eyJhbGciOiJub25lIn0.e30.");
        refusals.put("replayed jti", () -> {
            String replayed = sign(ecKey, JWSAlgorithm.ES384, claims().build());
            assertThat(tokenRequest(replayed, "system/*.rs").statusCode()).isEqualTo(200);
            return replayed;
        });
        int sent = 0;
        for (var refusal : refusals.entrySet()) {
            if (sent++ % 4 == 3) {
                register();
            }
            HttpResponse<String> refused = tokenRequest(refusal.getValue().call(), "system/*.rs");
            assertThat(refused.statusCode()).as(refusal.getKey()).isEqualTo(401);
            assertThat(refused.body()).as(refusal.getKey()).contains("invalid_client").doesNotContain(clientId)
                    .doesNotContain("eyJ");
        }
        // Scopes: outside the ceiling, none at all, and a user scope.
        for (String scope : new String[] {"system/*.cruds", null, "user/*.rs", "system/Patient.rs?name=x"}) {
            HttpResponse<String> refused = tokenRequest(sign(ecKey, JWSAlgorithm.ES384, claims().build()), scope);
            assertThat(refused.statusCode()).as(String.valueOf(scope)).isEqualTo(400);
            assertThat(refused.body()).contains("invalid_scope");
        }
    }

    @Test
    void registrationRefusesKeysBelowTheFloorPrivateKeysAndNonSystemScopes() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(1024);
        RSAKey weak = new RSAKey.Builder((RSAPublicKey) generator.generateKeyPair().getPublic()).keyID("weak").build();
        ECKey p256 = new ECKeyGenerator(Curve.P_256).generate();
        Map<String, Consumer<Void>> refusals = new LinkedHashMap<>();
        refusals.put("RSA-1024", v -> serviceClients.createBackend("x", Set.of(), List.of("system/*.rs"),
                new JWKSet(weak).toString(), null));
        refusals.put("P-256", v -> serviceClients.createBackend("x", Set.of(), List.of("system/*.rs"),
                new JWKSet(p256.toPublicJWK()).toString(), null));
        refusals.put("a private key", v -> serviceClients.createBackend("x", Set.of(), List.of("system/*.rs"),
                new JWKSet(ecKey).toString(false), null));
        refusals.put("http URL", v -> serviceClients.createBackend("x", Set.of(), List.of("system/*.rs"), null,
                "http://keys.example/jwks"));
        refusals.put("user scope", v -> serviceClients.createBackend("x", Set.of(), List.of("user/*.rs"),
                new JWKSet(ecKey.toPublicJWK()).toString(), null));
        refusals.put("no scope", v -> serviceClients.createBackend("x", Set.of(), List.of(),
                new JWKSet(ecKey.toPublicJWK()).toString(), null));
        for (var refusal : refusals.entrySet()) {
            assertThatThrownBy(() -> refusal.getValue().accept(null)).as(refusal.getKey())
                    .isInstanceOf(ServiceClients.KeysRefused.class);
        }
    }

    private HttpResponse<String> get(String path, String bearer) {
        return sendWithoutToken(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + bearer).GET());
    }
}
