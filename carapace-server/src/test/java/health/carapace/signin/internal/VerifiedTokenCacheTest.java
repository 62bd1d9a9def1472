package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.jwt.BadJwtException;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;

class VerifiedTokenCacheTest {

    private final Instant issued = Instant.parse("2026-11-24T08:00:00Z");
    private final AtomicReference<Instant> now = new AtomicReference<>(issued);
    private final Clock clock = new Clock() {
        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    };
    private final AtomicInteger verifications = new AtomicInteger();

    private final JwtDecoder verifier = token -> {
        verifications.incrementAndGet();
        if (token.startsWith("forged")) {
            throw new BadJwtException("bad signature");
        }
        return Jwt.withTokenValue(token).header("alg", "ES256").subject("svc-x")
                .issuedAt(issued).expiresAt(issued.plusSeconds(900)).build();
    };

    @Test
    void aVerifiedTokenIsNotVerifiedAgainUntilItExpires() {
        VerifiedTokenCache cache = new VerifiedTokenCache(verifier, clock, 10);
        assertThat(cache.decode("good").getSubject()).isEqualTo("svc-x");
        assertThat(cache.decode("good").getSubject()).isEqualTo("svc-x");
        assertThat(verifications).hasValue(1);
    }

    @Test
    void anExpiredTokenIsRefusedEvenFromTheCache() {
        VerifiedTokenCache cache = new VerifiedTokenCache(verifier, clock, 10);
        cache.decode("good");
        now.set(issued.plusSeconds(901));
        assertThatThrownBy(() -> cache.decode("good")).isInstanceOf(BadJwtException.class);
    }

    @Test
    void aRefusedTokenIsNeverCached() {
        VerifiedTokenCache cache = new VerifiedTokenCache(verifier, clock, 10);
        assertThatThrownBy(() -> cache.decode("forged")).isInstanceOf(BadJwtException.class);
        assertThatThrownBy(() -> cache.decode("forged")).isInstanceOf(BadJwtException.class);
        assertThat(verifications).hasValue(2);
    }
}
