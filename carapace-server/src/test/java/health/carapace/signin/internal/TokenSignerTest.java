package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.SignedJWT;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.JwtEncodingException;

/** The access-token signer: standard ES256 any verifier accepts, and nothing in a header it did not mean to write. */
class TokenSignerTest {

    private final ECKey key = generate();

    private static ECKey generate() {
        try {
            return new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).algorithm(JWSAlgorithm.ES256).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private final Instant now = Instant.parse("2026-12-05T06:00:00Z");
    private final JwtClaimsSet claims = JwtClaimsSet.builder().issuer("https://carapace.example").subject("client-1")
            .audience(List.of("https://carapace.example/fhir")).issuedAt(now).expiresAt(now.plusSeconds(300))
            .id("token-1").claim("scope", Set.of("system/Patient.rs")).build();

    @Test
    void signsTokensThatTheJdkProvidersVerifierAcceptsWithTheClaimsAndTheKeysId() throws Exception {
        Jwt jwt = new TokenSigner(key).encode(JwtEncoderParameters.from(JwsHeader.with(SignatureAlgorithm.ES256).build(),
                claims));

        SignedJWT parsed = SignedJWT.parse(jwt.getTokenValue());
        // verified by Nimbus with the JDK's own provider (no provider set): the signature is plain ES256
        assertThat(parsed.verify(new ECDSAVerifier(key.toPublicJWK()))).isTrue();
        assertThat(parsed.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
        assertThat(parsed.getHeader().getKeyID()).isEqualTo(key.getKeyID());
        assertThat(parsed.getJWTClaimsSet().getExpirationTime().toInstant()).isEqualTo(now.plusSeconds(300));
        assertThat(parsed.getJWTClaimsSet().getIssueTime().toInstant()).isEqualTo(now);
        assertThat(parsed.getJWTClaimsSet().getAudience()).containsExactly("https://carapace.example/fhir");
        assertThat(parsed.getJWTClaimsSet().getStringListClaim("scope")).containsExactly("system/Patient.rs");
        assertThat(jwt.getHeaders()).containsEntry("kid", key.getKeyID());
        assertThat(jwt.getExpiresAt()).isEqualTo(now.plusSeconds(300));
        // and a second token over the same claims carries a different signature (a fresh nonce per signature)
        Jwt again = new TokenSigner(key).encode(JwtEncoderParameters.from(claims));
        assertThat(again.getTokenValue()).isNotEqualTo(jwt.getTokenValue());
        assertThat(SignedJWT.parse(again.getTokenValue()).verify(new ECDSAVerifier(key.toPublicJWK()))).isTrue();
    }

    @Test
    void refusesAnotherAlgorithmAnotherKeyIdOrAHeaderItDoesNotWrite() {
        TokenSigner signer = new TokenSigner(key);
        assertThatThrownBy(() -> signer.encode(JwtEncoderParameters.from(JwsHeader.with(SignatureAlgorithm.RS256).build(),
                claims))).isInstanceOf(JwtEncodingException.class);
        assertThatThrownBy(() -> signer.encode(JwtEncoderParameters.from(
                JwsHeader.with(SignatureAlgorithm.ES256).keyId("someone-else").build(), claims)))
                .isInstanceOf(JwtEncodingException.class);
        assertThatThrownBy(() -> signer.encode(JwtEncoderParameters.from(
                JwsHeader.with(SignatureAlgorithm.ES256).jwkSetUrl("https://evil.example/jwks").build(), claims)))
                .isInstanceOf(JwtEncodingException.class);
    }
}
