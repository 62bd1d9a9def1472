package health.carapace.console.internal;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import org.springframework.http.ResponseCookie;

/**
 * A sign-in the console has started and not finished: the OAuth {@code state}, the PKCE verifier
 * and the console page to return to, sealed into a {@code __Host-} cookie that lives ten minutes.
 * Nothing is written to the database for a visitor who has not signed in, and a callback is
 * accepted only in the browser that started the sign-in, with its state.
 */
final class PendingSignIn {

    static final String COOKIE = "__Host-carapace-console-signin";
    static final Duration LIFETIME = Duration.ofMinutes(10);
    private static final byte[] CONTEXT = "console pending sign-in".getBytes(StandardCharsets.UTF_8);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What the callback needs. {@code returnTo} is a console path chosen by the console, never by the visitor. */
    record Started(String state, String verifier, String returnTo, Instant expiresAt) {

        String codeChallenge() {
            try {
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
                return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Whether a callback's state is this sign-in's, compared in constant time. */
        boolean matches(String callbackState) {
            return callbackState != null && MessageDigest.isEqual(state.getBytes(StandardCharsets.US_ASCII),
                    callbackState.getBytes(StandardCharsets.US_ASCII));
        }
    }

    private final ConsoleSeal seal;
    private final Clock clock;

    PendingSignIn(ConsoleSeal seal, Clock clock) {
        this.seal = seal;
        this.clock = clock;
    }

    Started start(String returnTo, HttpServletResponse response) {
        Started started = new Started(random(), random(), returnTo, clock.instant().plus(LIFETIME));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(started.state());
            out.writeUTF(started.verifier());
            out.writeUTF(started.returnTo());
            out.writeLong(started.expiresAt().getEpochSecond());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        String value = Base64.getUrlEncoder().withoutPadding().encodeToString(seal.seal(bytes.toByteArray(), CONTEXT));
        response.addHeader("Set-Cookie", cookie(value, LIFETIME.toSeconds()).toString());
        return started;
    }

    /** The sign-in this browser started, if its cookie is ours and has not expired. */
    Optional<Started> find(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return Optional.empty();
        }
        for (Cookie cookie : cookies) {
            if (COOKIE.equals(cookie.getName()) && cookie.getValue() != null && cookie.getValue().length() < 2048) {
                byte[] sealed;
                try {
                    sealed = Base64.getUrlDecoder().decode(cookie.getValue());
                } catch (IllegalArgumentException notOurs) {
                    return Optional.empty();
                }
                return seal.open(sealed, CONTEXT).flatMap(this::decode);
            }
        }
        return Optional.empty();
    }

    /** Drops the cookie: a sign-in is finished (or abandoned) once its callback came. */
    static void forget(HttpServletResponse response) {
        response.addHeader("Set-Cookie", cookie("", 0).toString());
    }

    private Optional<Started> decode(byte[] plain) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(plain))) {
            Started started = new Started(in.readUTF(), in.readUTF(), in.readUTF(), Instant.ofEpochSecond(in.readLong()));
            return clock.instant().isBefore(started.expiresAt()) ? Optional.of(started) : Optional.empty();
        } catch (IOException unreadable) {
            return Optional.empty();
        }
    }

    private static ResponseCookie cookie(String value, long maxAgeSeconds) {
        return ResponseCookie.from(COOKIE, value).path("/").secure(true).httpOnly(true).sameSite("Lax")
                .maxAge(maxAgeSeconds).build();
    }

    private static String random() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
