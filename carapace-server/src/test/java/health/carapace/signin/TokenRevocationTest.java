package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import health.carapace.testing.EcdsaSignatures;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Revoking a service client's access token at {@code POST /oauth2/revoke} (RFC 7009) ends it on
 * the next request, whichever node issued it and whatever this node remembers: the token's id is
 * kept in the database and checked on every request. Only the client the token was issued to
 * can revoke it. (People's tokens: {@link UserTokenAttackTest}.)
 */
class TokenRevocationTest extends IntegrationTest {

    @Autowired
    private JWKSource<SecurityContext> serverKeys;

    @Value("${carapace.issuer}")
    private String issuer;

    private String patientPath;

    @BeforeEach
    void storeAPatient() {
        Patient patient = new Patient();
        patient.addName().setFamily("Revocation" + UUID.randomUUID().toString().replace("-", ""));
        patientPath = "/fhir/Patient/" + fhirClient().create().resource(patient).execute().getId().getIdPart();
    }

    @Test
    void aRevokedServiceClientTokenIsRefusedOnTheNextRequest() throws Exception {
        ServiceClients.Credentials client = client("revoke-own-token", TestPolicy.EVERYTHING);
        String token = tokenFor(client.clientId(), client.clientSecret());
        assertThat(read(token).statusCode()).as("control: the token works (and is now verified and cached)").isEqualTo(200);
        // A service client's grant is not stored (issue 18's issuance speed): revocation must not need it.
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from iam.authorization_token where token_hash = sha256(?)")
                .param(token.getBytes(StandardCharsets.US_ASCII)).query(Long.class).single())
                .as("no stored grant holds the token").isZero();

        HttpResponse<String> revoked = revoke(client, token);

        assertThat(revoked.statusCode()).isEqualTo(200);
        assertThat(revoked.body()).doesNotContain(token);
        assertUnauthenticated(read(token));
        assertThat(revokedRows(token)).as("kept in the database, for every node and after a restart").isEqualTo(1);
        assertThat(audited(client.clientId(), "token_revoked", true)).isEqualTo(1);
        // Only that token: the client itself is not disabled.
        assertThat(read(tokenFor(client.clientId(), client.clientSecret())).statusCode()).isEqualTo(200);
    }

    @Test
    void aTokenIssuedByAnotherNodeIsRevokedToo() throws Exception {
        // Signed with the shared key but never seen by this node's authorization service: what a
        // token issued by another node, or before a restart, looks like to this one.
        ServiceClients.Credentials client = client("revoke-elsewhere", TestPolicy.EVERYTHING);
        String token = issuedElsewhere(client.clientId());
        assertThat(read(token).statusCode()).as("control: the token works").isEqualTo(200);

        assertThat(revoke(client, token).statusCode()).isEqualTo(200);

        assertUnauthenticated(read(token));
    }

    @Test
    void aRevocationRecordedByAnotherNodeHoldsHere() throws Exception {
        ServiceClients.Credentials client = client("revoked-by-another-node", TestPolicy.EVERYTHING);
        String token = tokenFor(client.clientId(), client.clientSecret());
        assertThat(read(token).statusCode()).as("control: the token works").isEqualTo(200);

        // Another node's revocation endpoint wrote the row; this node has the token verified and cached.
        JdbcClient.create(dataSource).sql("insert into iam.revoked_token (jti, expires_at) values (?, ?)")
                .params(SignedJWT.parse(token).getJWTClaimsSet().getJWTID(),
                        java.sql.Timestamp.from(Instant.now().plus(Duration.ofMinutes(15))))
                .update();

        assertUnauthenticated(read(token));
    }

    @Test
    void aClientCannotRevokeAnotherClientsToken() throws Exception {
        ServiceClients.Credentials owner = client("revoke-victim", TestPolicy.EVERYTHING);
        ServiceClients.Credentials other = client("revoke-attacker", TestPolicy.EVERYTHING);
        String token = tokenFor(owner.clientId(), owner.clientSecret());
        String elsewhere = issuedElsewhere(owner.clientId());

        for (String victim : new String[] {token, elsewhere}) {
            HttpResponse<String> refused = revoke(other, victim);

            // RFC 7009 §2.1: the token was not issued to the requesting client.
            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(refused.body()).contains("\"error\":\"invalid_client\"").doesNotContain(victim);
            assertThat(read(victim).statusCode()).as("the owner's token still works").isEqualTo(200);
            assertThat(revokedRows(victim)).isZero();
        }
        assertThat(audited(other.clientId(), "token_revoked", false)).isEqualTo(2);
        assertThat(audited(other.clientId(), "token_revoked", true)).isZero();
    }

    @Test
    void aTokenWithoutAnIdIsRefused() throws Exception {
        // Every token the server issues has a jti; one without could never be revoked.
        ServiceClients.Credentials client = client("token-without-id", TestPolicy.EVERYTHING);
        Instant now = Instant.now();
        String token = sign(new JWTClaimsSet.Builder().issuer(issuer).subject(client.clientId())
                .audience(client.clientId()).claim("kind", "client").issueTime(Date.from(now)).notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(5)))).build());

        assertUnauthenticated(read(token));
    }

    // --- helpers ------------------------------------------------------------------------------------

    private String issuedElsewhere(String clientId) throws Exception {
        Instant now = Instant.now();
        return sign(new JWTClaimsSet.Builder().issuer(issuer).subject(clientId).audience(clientId)
                .claim("kind", "client").issueTime(Date.from(now)).notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(5)))).jwtID(UUID.randomUUID().toString()).build());
    }

    private String sign(JWTClaimsSet claims) throws Exception {
        ECKey key = (ECKey) serverKeys.get(new JWKSelector(new JWKMatcher.Builder().keyType(KeyType.EC).privateOnly(true)
                .build()), null).get(0);
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(JOSEObjectType.JWT)
                .keyID(key.getKeyID()).build(), claims);
        jwt.sign(new ECDSASigner(key));
        return EcdsaSignatures.lowS(jwt.serialize());
    }

    private HttpResponse<String> revoke(ServiceClients.Credentials client, String token) {
        String basic = Base64.getEncoder().encodeToString((client.clientId() + ":" + client.clientSecret())
                .getBytes(StandardCharsets.UTF_8));
        return sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/revoke"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("token=" + token + "&token_type_hint=access_token")));
    }

    private HttpResponse<String> read(String token) {
        return sendWithoutToken(HttpRequest.newBuilder(uri(patientPath)).header("Authorization", "Bearer " + token).GET());
    }

    private static void assertUnauthenticated(HttpResponse<String> response) {
        assertThat(response.statusCode()).as("status; body: %s", response.body()).isEqualTo(401);
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getCode()).isEqualTo(IssueType.LOGIN);
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getDiagnostics()).startsWith("A valid bearer token is required");
    }

    private long revokedRows(String token) throws Exception {
        return JdbcClient.create(dataSource).sql("select count(*) from iam.revoked_token where jti = ?")
                .param(SignedJWT.parse(token).getJWTClaimsSet().getJWTID()).query(Long.class).single();
    }

    private long audited(String actor, String action, boolean success) {
        return JdbcClient.create(dataSource).sql("select count(*) from audit.event where actor = ? and action = ? and outcome = ?")
                .params(actor, action, success ? "success" : "failure").query(Long.class).single();
    }
}
