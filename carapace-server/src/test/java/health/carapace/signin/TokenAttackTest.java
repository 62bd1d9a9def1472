package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.impl.ECDSA;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import health.carapace.testing.EcdsaSignatures;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestPolicy;
import health.carapace.testing.Refusals;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;

/**
 * Forged, stale and malformed bearer tokens against the running server. Each forgery changes
 * one thing about a token the server would otherwise accept ({@link
 * #tokenSignedWithTheServersKeyIsAccepted} is that control), so each refusal is down to the one
 * thing changed. A FHIR refusal is a 401 with {@code WWW-Authenticate: Bearer} and an
 * OperationOutcome that says nothing about why the token failed.
 */
class TokenAttackTest extends IntegrationTest {

    private static final String SECRET_FAMILY = "Tokenguarded" + UUID.randomUUID().toString().replace("-", "");

    @Autowired
    private JWKSource<SecurityContext> serverKeys;

    @Autowired
    private DataSource dataSource;

    @Autowired
    private JwtEncoder tokenEncoder;

    @Value("${carapace.issuer}")
    private String issuer;

    private String patientPath;

    @BeforeEach
    void storeAPatientThatAForgedTokenWouldRead() {
        Patient patient = new Patient();
        patient.addName().setFamily(SECRET_FAMILY);
        patientPath = "/fhir/Patient/" + fhirClient().create().resource(patient).execute().getId().getIdPart();
    }

    @Test
    void tokenSignedWithTheServersKeyIsAccepted() throws Exception {
        HttpResponse<String> response = readPatientWith(bearer(signed(serverKey(), validClaims(), true)));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains(SECRET_FAMILY);
    }

    @Test
    void requestWithoutATokenIsRefused() {
        assertRefusedAsUnauthenticated(sendWithoutToken(HttpRequest.newBuilder(uri(patientPath)).GET()));
    }

    @Test
    void unsignedTokenWithAlgNoneIsRefused() throws Exception {
        JWTClaimsSet claims = validClaims();
        String realSignature = token().split("\\.")[2];
        String payload = base64Url(claims.toString());

        assertRefusedAsUnauthenticated(readPatientWith(bearer(new PlainJWT(claims).serialize())));
        // Spellings and leftovers that lenient parsers have accepted as "none".
        for (String alg : List.of("none", "None", "NONE", "nOnE")) {
            String header = base64Url("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}");
            assertRefusedAsUnauthenticated(readPatientWith(bearer(header + "." + payload + ".")));
            assertRefusedAsUnauthenticated(readPatientWith(bearer(header + "." + payload + "." + realSignature)));
        }
    }

    @Test
    void tokenSignedWithAnotherEcKeyIsRefused() throws Exception {
        ECKey serverKey = serverKey();
        ECKey attackerKey = new ECKeyGenerator(Curve.P_256).keyID(serverKey.getKeyID()).generate();
        ECKey attackerKeyOwnId = new ECKeyGenerator(Curve.P_256).keyID("attacker").generate();

        // Claiming the server's key id: the server's key is found, and the signature fails on it.
        assertRefusedAsUnauthenticated(readPatientWith(bearer(signed(attackerKey, validClaims(), true))));
        assertRefusedAsUnauthenticated(readPatientWith(bearer(signed(attackerKeyOwnId, validClaims(), true))));
        assertRefusedAsUnauthenticated(readPatientWith(bearer(signed(attackerKey, validClaims(), false))));
        // Shipping the attacker's public key in the header ("jwk"), for servers that trust it.
        SignedJWT withEmbeddedKey = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
                .type(JOSEObjectType.JWT).keyID(serverKey.getKeyID()).jwk(attackerKey.toPublicJWK()).build(),
                validClaims());
        withEmbeddedKey.sign(new ECDSASigner(attackerKey));
        assertRefusedAsUnauthenticated(readPatientWith(bearer(withEmbeddedKey.serialize())));
    }

    @Test
    void hmacTokenKeyedWithTheServersPublicKeyIsRefused() throws Exception {
        // Algorithm confusion: a verifier that takes "alg" from the token would check an HS256
        // MAC with the bytes of the public key, which anyone can fetch from the JWKS endpoint.
        ECKey serverKey = serverKey();
        for (byte[] secret : List.of(serverKey.toECPublicKey().getEncoded(),
                serverKey.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8))) {
            SignedJWT token = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256)
                    .type(JOSEObjectType.JWT).keyID(serverKey.getKeyID()).build(), validClaims());
            token.sign(new MACSigner(secret));
            assertRefusedAsUnauthenticated(readPatientWith(bearer(token.serialize())));
        }
    }

    @Test
    void expiredTokenIsRefused() throws Exception {
        Instant now = Instant.now();
        JWTClaimsSet expired = validClaims(claims -> claims
                .issueTime(Date.from(now.minus(Duration.ofMinutes(25))))
                .notBeforeTime(Date.from(now.minus(Duration.ofMinutes(25))))
                .expirationTime(Date.from(now.minus(Duration.ofMinutes(10)))));

        assertRefusedAsUnauthenticated(readPatientWith(bearer(signed(serverKey(), expired, true))));
    }

    @Test
    void tokenNotValidBeforeALaterTimeIsRefused() throws Exception {
        Instant now = Instant.now();
        JWTClaimsSet early = validClaims(claims -> claims
                .notBeforeTime(Date.from(now.plus(Duration.ofMinutes(10))))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(14)))));

        assertRefusedAsUnauthenticated(readPatientWith(bearer(signed(serverKey(), early, true))));
    }

    @Test
    void tokenFromAnotherIssuerIsRefused() throws Exception {
        JWTClaimsSet foreign = validClaims(claims -> claims.issuer("https://issuer.example.org"));

        assertRefusedAsUnauthenticated(readPatientWith(bearer(signed(serverKey(), foreign, true))));
    }

    @Test
    void realTokenWithAnAlteredPayloadIsRefused() throws Exception {
        String[] parts = token().split("\\.");
        JWTClaimsSet altered = validClaims(claims -> claims.subject("svc-" + UUID.randomUUID()));

        assertRefusedAsUnauthenticated(readPatientWith(bearer(parts[0] + "." + base64Url(altered.toString()) + "." + parts[2])));
    }

    @Test
    void garbageTokensAreRefused() {
        String random = Base64.getUrlEncoder().withoutPadding().encodeToString(UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8));
        for (String authorization : List.of("Bearer garbage", "Bearer a.b.c", "Bearer " + random + "." + random + "." + random,
                "Bearer ", "Bearer " + token() + "x", "Basic " + random, token())) {
            assertRefusedAsUnauthenticated(readPatientWith(authorization));
        }
    }

    // --- one spelling per signature (ES256 is malleable: (r, s) and (r, n - s) both verify) -----

    @Test
    void aRealTokenWithItsSignatureSReplacedByNMinusSIsRefused() {
        String real = token();
        assertThat(readPatientWith(bearer(real)).statusCode()).as("control: the real token").isEqualTo(200);

        assertRefusedAsUnauthenticated(readPatientWith(bearer(EcdsaSignatures.flipS(real))));
    }

    @Test
    void aRealTokenWithItsSignatureDerEncodedIsRefused() throws Exception {
        String[] parts = token().split("\\.");
        byte[] der = ECDSA.transcodeSignatureToDER(Base64.getUrlDecoder().decode(parts[2]));

        assertRefusedAsUnauthenticated(readPatientWith(bearer(parts[0] + "." + parts[1] + "."
                + Base64.getUrlEncoder().withoutPadding().encodeToString(der))));
    }

    @Test
    void aRealSignatureInAnotherBase64SpellingIsRefused() {
        String real = token();
        String body = real.substring(0, real.lastIndexOf('.') + 1);
        String signature = real.substring(real.lastIndexOf('.') + 1);
        // 64 bytes are 86 characters; the last carries 4 unused bits, which lenient decoders ignore.
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char last = signature.charAt(signature.length() - 1);
        String otherLast = signature.substring(0, signature.length() - 1) + alphabet.charAt(alphabet.indexOf(last) ^ 1);

        for (String spelling : List.of(signature + "==", otherLast, signature.replace('-', '+').replace('_', '/'))) {
            if (!spelling.equals(signature)) {
                assertRefusedAsUnauthenticated(readPatientWith(bearer(body + spelling)));
            }
        }
    }

    @Test
    void everyTokenTheServerSignsHasALowSSignatureAndIsAccepted() throws Exception {
        // The JDK's signer returns s or n - s at random: unless the server normalises, half of its
        // own tokens would be refused. 200 in a row, from the encoder every token endpoint uses.
        ServiceClients.Credentials client = client("token-attack-many-tokens", TestPolicy.EVERYTHING);
        HttpClient connection = http();
        for (int i = 0; i < 200; i++) {
            Instant now = Instant.now();
            String token = tokenEncoder.encode(JwtEncoderParameters.from(JwsHeader.with(SignatureAlgorithm.ES256).build(),
                    JwtClaimsSet.builder().issuer(issuer).subject(client.clientId()).audience(List.of(client.clientId()))
                            .issuedAt(now).notBefore(now).expiresAt(now.plus(Duration.ofMinutes(5)))
                            .id(UUID.randomUUID().toString()).claim("kind", "client").build())).getTokenValue();
            assertThat(EcdsaSignatures.isLowS(token)).as("token %d has a low s", i).isTrue();
            HttpResponse<String> read = connection.send(HttpRequest.newBuilder(uri(patientPath))
                    .header("Authorization", bearer(token)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(read.statusCode()).as("token %d", i).isEqualTo(200);
        }
    }

    @Test
    void tokensFromTheTokenEndpointHaveALowSSignature() {
        // 20 in a row: with the signer's coin flip left alone, all 20 low by chance is 1 in 2^20.
        ServiceClients.Credentials client = client("token-attack-endpoint-tokens", TestPolicy.EVERYTHING);
        for (int i = 0; i < 20; i++) {
            String issued = tokenFor(client.clientId(), client.clientSecret());
            assertThat(EcdsaSignatures.isLowS(issued)).as("token %d has a low s", i).isTrue();
        }
        assertThat(readPatientWith(bearer(tokenFor(client.clientId(), client.clientSecret()))).statusCode()).isEqualTo(200);
    }

    @Test
    void disabledClientIsRefusedANewToken() {
        ServiceClients.Credentials client = serviceClients.create("token-attack-disabled");
        assertThat(tokenResponse(client.clientId(), client.clientSecret()).statusCode()).isEqualTo(200);

        JdbcClient.create(dataSource).sql("update iam.service_client set disabled = true where client_id = ?")
                .param(client.clientId()).update();

        HttpResponse<String> refused = tokenResponse(client.clientId(), client.clientSecret());
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.body()).doesNotContain("access_token");
    }

    @Test
    void disablingAClientEndsTheAccessOfItsTokenOnTheNextRequest() throws Exception {
        ServiceClients.Credentials client = client("token-attack-disabled-mid-session", TestPolicy.EVERYTHING);
        String accessToken = tokenFor(client.clientId(), client.clientSecret());
        assertThat(readPatientWith(bearer(accessToken)).statusCode()).isEqualTo(200);

        JdbcClient.create(dataSource).sql("update iam.service_client set disabled = true where client_id = ?")
                .param(client.clientId()).update();

        // The same, still unexpired (and already verified and cached) token is refused at once.
        assertRefusedAsUnauthenticated(readPatientWith(bearer(accessToken)));
    }

    @Test
    void aValidlySignedTokenForAPrincipalTheDirectoryDoesNotKnowIsRefused() throws Exception {
        String forged = signed(serverKey(), validClaims(claims -> claims.subject("svc-" + UUID.randomUUID())), true);

        assertRefusedAsUnauthenticated(readPatientWith(bearer(forged)));
    }

    @Test
    void wrongClientSecretIsRefusedAtTheTokenEndpointExactlyLikeAnUnknownClient() {
        ServiceClients.Credentials client = serviceClients.create("token-attack-wrong-secret");

        HttpResponse<String> wrongSecret = tokenResponse(client.clientId(), client.clientSecret() + "x");
        HttpResponse<String> unknownClient = tokenResponse("svc-" + UUID.randomUUID(), client.clientSecret());

        assertThat(wrongSecret.statusCode()).isEqualTo(401);
        assertThat(wrongSecret.body()).doesNotContain("access_token");
        // Same status and body: the endpoint must not tell which client ids exist.
        assertThat(unknownClient.statusCode()).isEqualTo(wrongSecret.statusCode());
        assertThat(unknownClient.body()).isEqualTo(wrongSecret.body());
    }

    // --- assertions and requests --------------------------------------------------------------

    private void assertRefusedAsUnauthenticated(HttpResponse<String> response) {
        assertThat(response.statusCode()).as("status; body: %s", response.body()).isEqualTo(401);
        assertThat(response.headers().allValues("WWW-Authenticate"))
                .as("WWW-Authenticate")
                .singleElement()
                .satisfies(challenge -> assertThat(challenge).startsWith("Bearer").doesNotContain("error_description"));
        OperationOutcome outcome = Refusals.outcomeOf(response);
        assertThat(outcome.getIssueFirstRep().getCode()).isEqualTo(IssueType.LOGIN);
        // One sentence for every reason, so the refusal does not help refine a forgery.
        assertThat(outcome.getIssueFirstRep().getDiagnostics()).startsWith("A valid bearer token is required");
        assertThat(response.body()).doesNotContain(SECRET_FAMILY);
    }

    private HttpResponse<String> readPatientWith(String authorization) {
        return sendWithoutToken(HttpRequest.newBuilder(uri(patientPath)).header("Authorization", authorization).GET());
    }

    private HttpResponse<String> tokenResponse(String clientId, String secret) {
        String basic = Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8));
        return sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
    }

    private static String bearer(String token) {
        return "Bearer " + token;
    }

    // --- tokens -------------------------------------------------------------------------------

    /** The server's own signing key, private part included, from the application context. */
    private ECKey serverKey() throws Exception {
        return (ECKey) serverKeys.get(new JWKSelector(new JWKMatcher.Builder().keyType(KeyType.EC).privateOnly(true).build()), null)
                .get(0);
    }

    /** The claims of a token the server issued, with fresh times and id: valid for five minutes. */
    private JWTClaimsSet validClaims() throws ParseException {
        return validClaims(UnaryOperator.identity());
    }

    private JWTClaimsSet validClaims(UnaryOperator<JWTClaimsSet.Builder> change) throws ParseException {
        Instant now = Instant.now();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder(SignedJWT.parse(token()).getJWTClaimsSet())
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(5))))
                .jwtID(UUID.randomUUID().toString());
        return change.apply(claims).build();
    }

    private static String signed(ECKey key, JWTClaimsSet claims, boolean withKeyId) throws JOSEException {
        JWSHeader.Builder header = new JWSHeader.Builder(JWSAlgorithm.ES256).type(JOSEObjectType.JWT);
        if (withKeyId) {
            header.keyID(key.getKeyID());
        }
        SignedJWT token = new SignedJWT(header.build(), claims);
        token.sign(new ECDSASigner(key));
        // The server signs (and accepts) only the low-s form; a forgery differs in one thing only.
        return health.carapace.testing.EcdsaSignatures.lowS(token.serialize());
    }

    private static String base64Url(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }
}
