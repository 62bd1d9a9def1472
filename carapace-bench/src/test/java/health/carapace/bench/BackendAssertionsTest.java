package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client assertions the token workload sends, checked against the JWKS it wrote, as the server checks them. */
class BackendAssertionsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final URI TOKEN_ENDPOINT = URI.create("https://localhost:8443/oauth2/token");

    @TempDir
    Path dir;

    @Test
    void eachBodyCarriesAnAssertionThatVerifiesUnderTheWrittenJwksWithItsOwnJti() throws Exception {
        BackendAssertions.writeKey(dir, "kid-1");
        assertThat(Files.getPosixFilePermissions(dir.resolve(BackendAssertions.KEY_FILE)))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        JsonNode jwk = JSON.readTree(Files.readString(dir.resolve(BackendAssertions.JWKS_FILE))).get("keys").get(0);
        assertThat(jwk.has("d")).as("the JWKS holds the public key only").isFalse();
        PublicKey key = publicKey(jwk);

        BackendAssertions assertions = BackendAssertions.sign(dir.resolve(BackendAssertions.KEY_FILE), "kid-1", "svc-1",
                TOKEN_ENDPOINT, "system/Patient.rs", 20);
        Set<String> jtis = new HashSet<>();
        for (int i = 0; i < assertions.count(); i++) {
            String body = new String(assertions.next(), StandardCharsets.US_ASCII);
            assertThat(body).startsWith("grant_type=client_credentials&scope=system%2FPatient.rs&client_assertion_type=");
            String jwt = URLDecoder.decode(body.substring(body.indexOf("client_assertion=") + 17), StandardCharsets.US_ASCII);
            String[] parts = jwt.split("\\.");
            JsonNode header = JSON.readTree(Base64.getUrlDecoder().decode(parts[0]));
            JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
            assertThat(header.get("alg").asText()).isEqualTo("ES384");
            assertThat(header.get("kid").asText()).isEqualTo("kid-1");
            assertThat(claims.get("iss").asText()).isEqualTo("svc-1");
            assertThat(claims.get("sub").asText()).isEqualTo("svc-1");
            assertThat(claims.get("aud").asText()).isEqualTo(TOKEN_ENDPOINT.toString());
            assertThat(claims.get("exp").asLong()).isBetween(Instant.now().getEpochSecond() + 200,
                    Instant.now().getEpochSecond() + 300);
            jtis.add(claims.get("jti").asText());
            Signature verifier = Signature.getInstance("SHA384withECDSAinP1363Format");
            verifier.initVerify(key);
            verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
            assertThat(verifier.verify(Base64.getUrlDecoder().decode(parts[2]))).as("signature").isTrue();
        }
        assertThat(jtis).hasSize(20);
    }

    @Test
    void runningOutIsAnErrorNotAReplay() throws Exception {
        BackendAssertions.writeKey(dir, "k");
        BackendAssertions assertions = BackendAssertions.sign(dir.resolve(BackendAssertions.KEY_FILE), "k", "svc",
                TOKEN_ENDPOINT, "system/*.rs", 1);
        assertions.next();
        org.assertj.core.api.Assertions.assertThatThrownBy(assertions::next).isInstanceOf(BenchException.class)
                .hasMessageContaining("--assertions");
    }

    @Test
    void writtenBodiesAreOnePerLineAndOwnerOnly() throws Exception {
        BackendAssertions.writeKey(dir, "k");
        Path file = dir.resolve("bodies.txt");
        BackendAssertions.sign(dir.resolve(BackendAssertions.KEY_FILE), "k", "svc", TOKEN_ENDPOINT, "system/*.rs", 3)
                .writeTo(file);
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(3).allMatch(line -> line.startsWith("grant_type=client_credentials&"));
        assertThat(Set.copyOf(lines)).hasSize(3);
        assertThat(Files.getPosixFilePermissions(file))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    }

    private static PublicKey publicKey(JsonNode jwk) throws Exception {
        AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
        parameters.init(new ECGenParameterSpec("secp384r1"));
        ECPoint point = new ECPoint(new BigInteger(1, Base64.getUrlDecoder().decode(jwk.get("x").asText())),
                new BigInteger(1, Base64.getUrlDecoder().decode(jwk.get("y").asText())));
        return KeyFactory.getInstance("EC").generatePublic(
                new ECPublicKeySpec(point, parameters.getParameterSpec(ECParameterSpec.class)));
    }
}
