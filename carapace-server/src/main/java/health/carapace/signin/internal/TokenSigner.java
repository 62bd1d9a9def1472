package health.carapace.signin.internal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.bc.BouncyCastleProviderSingleton;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.URL;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Set;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.JwtEncodingException;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;

/**
 * Signs the access tokens (ES256, the token signing key) with BouncyCastle's ECDSA through Nimbus.
 * The JDK 17 provider's P-256 signature took about 1.6 ms of CPU on this machine against 0.2 ms
 * for BouncyCastle's (docs/BENCHMARKS.md, ADR 0038), and one is made for every token issued.
 * Only what this server puts in its tokens' headers is accepted (alg ES256, typ, the key's own kid):
 * anything else in a header is refused rather than silently dropped.
 */
final class TokenSigner implements JwtEncoder {

    private static final Set<String> HEADERS = Set.of("alg", "typ", "kid");

    private final ECKey key;
    private final JWSSigner signer;

    TokenSigner(ECKey key) {
        try {
            this.signer = new ECDSASigner(key);
        } catch (JOSEException unusable) {
            throw new IllegalStateException("The token signing key cannot sign ES256", unusable);
        }
        this.signer.getJCAContext().setProvider(BouncyCastleProviderSingleton.getInstance());
        this.key = key;
    }

    @Override
    public Jwt encode(JwtEncoderParameters parameters) throws JwtEncodingException {
        JwsHeader header = parameters.getJwsHeader();
        JWSHeader.Builder signed = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID());
        if (header != null) {
            if (!HEADERS.containsAll(header.getHeaders().keySet())
                    || !JWSAlgorithm.ES256.getName().equals(header.getAlgorithm().getName())
                    || (header.getKeyId() != null && !header.getKeyId().equals(key.getKeyID()))) {
                throw new JwtEncodingException("Only ES256 tokens with the token signing key's own header are issued");
            }
            if (header.getType() != null) {
                signed.type(new JOSEObjectType(header.getType()));
            }
        }
        JwtClaimsSet claims = parameters.getClaims();
        JWTClaimsSet.Builder body = new JWTClaimsSet.Builder();
        for (Map.Entry<String, Object> claim : claims.getClaims().entrySet()) {
            body.claim(claim.getKey(), json(claim.getValue()));
        }
        SignedJWT jwt = new SignedJWT(signed.build(), body.build());
        try {
            jwt.sign(signer);
        } catch (JOSEException failed) {
            throw new JwtEncodingException("The access token could not be signed", failed);
        }
        // the issued token's header as Spring's own encoder describes it (alg as a JwsAlgorithm, the kid set)
        JwsHeader described = (header != null ? JwsHeader.from(header) : JwsHeader.with(SignatureAlgorithm.ES256))
                .keyId(key.getKeyID()).build();
        return new Jwt(jwt.serialize(), claims.getIssuedAt(), claims.getExpiresAt(), described.getHeaders(),
                claims.getClaims());
    }

    /** A claim as JSON holds it: times as the seconds Nimbus writes for a {@link Date}, URLs as text. */
    private static Object json(Object value) {
        if (value instanceof Instant instant) {
            return Date.from(instant);
        }
        if (value instanceof URL url) {
            return url.toExternalForm();
        }
        return value;
    }
}
