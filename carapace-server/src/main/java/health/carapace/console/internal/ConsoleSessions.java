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
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.springframework.http.ResponseCookie;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The console's own sessions, in PostgreSQL ({@code console.session}) so that any node serves any
 * page. The browser holds a random 256-bit key in a {@code __Host-} cookie (Secure, HttpOnly,
 * SameSite=Lax, path /); the table holds the key's SHA-256 and the session's tokens sealed with
 * that hash as associated data. A session lives as long as its refresh token may: the sign-in
 * session's idle timeout after the last token was issued, so the console signs out an idle person
 * exactly when the sign-in session would.
 */
final class ConsoleSessions {

    static final String COOKIE = "__Host-carapace-console";
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_-]{43}");
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * What a signed-in console session holds: the person's tokens and the CSRF token of its pages.
     * The access token is refreshed when less than {@link #REFRESH_BEFORE} of it remains.
     */
    record Tokens(String accessToken, String refreshToken, Instant accessExpiresAt, String csrfToken) {}

    /** A session found for a request: its key's hash (its row) and what it holds. */
    record Session(byte[] keyHash, Tokens tokens) {}

    static final Duration REFRESH_BEFORE = Duration.ofMinutes(5);

    private final JdbcClient jdbc;
    private final ConsoleSeal seal;
    private final Clock clock;
    private final Duration idleTimeout;

    ConsoleSessions(DataSource dataSource, ConsoleSeal seal, Clock clock, Duration idleTimeout) {
        this.jdbc = JdbcClient.create(dataSource);
        this.seal = seal;
        this.clock = clock;
        this.idleTimeout = idleTimeout;
    }

    /** Starts a session for freshly issued tokens and gives the browser its key. */
    Session create(TokenEndpoint.Issued issued, HttpServletResponse response) {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        String cookieValue = Base64.getUrlEncoder().withoutPadding().encodeToString(key);
        byte[] keyHash = sha256(cookieValue);
        byte[] csrf = new byte[32];
        RANDOM.nextBytes(csrf);
        Tokens tokens = new Tokens(issued.accessToken(), issued.refreshToken(), issued.accessExpiresAt(),
                Base64.getUrlEncoder().withoutPadding().encodeToString(csrf));
        Instant now = clock.instant();
        jdbc.sql("delete from console.session where idle_expires_at < ?").param(Timestamp.from(now)).update();
        jdbc.sql("insert into console.session (key_hash, sealed, created_at, idle_expires_at) values (?, ?, ?, ?)")
                .params(keyHash, seal.seal(encode(tokens), keyHash), Timestamp.from(now),
                        Timestamp.from(now.plus(idleTimeout)))
                .update();
        response.addHeader("Set-Cookie", cookie(cookieValue, -1).toString());
        return new Session(keyHash, tokens);
    }

    /** The request's session, if its cookie names one that is still live. */
    Optional<Session> find(HttpServletRequest request) {
        return keyHash(request).flatMap(keyHash -> jdbc.sql(
                        "select sealed from console.session where key_hash = ? and idle_expires_at > ?")
                .params(keyHash, Timestamp.from(clock.instant()))
                .query((rs, n) -> rs.getBytes(1))
                .optional()
                .flatMap(sealed -> seal.open(sealed, keyHash))
                .flatMap(ConsoleSessions::decode)
                .map(tokens -> new Session(keyHash, tokens)));
    }

    /** Whether the session's access token should be refreshed now. */
    boolean refreshDue(Session session) {
        return !clock.instant().plus(REFRESH_BEFORE).isBefore(session.tokens().accessExpiresAt());
    }

    /**
     * Refreshes the session's tokens once, however many requests of the session ask at the same
     * moment on this node: they queue on the session's lock, and one that waited finds the tokens
     * already refreshed (a refresh token used twice would end the person's sign-in session, as a
     * replay). No database connection is held while the token endpoint is asked (it needs
     * connections of the same pool). Two nodes refreshing one session at the same instant is
     * possible; the replay rule then ends the sign-in session, and the person signs in again (fails
     * closed). Empty when the refresh was refused: the session is then gone.
     */
    Optional<Session> refresh(Session session, Function<String, Optional<TokenEndpoint.Issued>> refresher) {
        java.util.concurrent.locks.Lock lock = REFRESHING[Math.floorMod(java.util.Arrays.hashCode(session.keyHash()),
                REFRESHING.length)];
        lock.lock();
        try {
            Optional<Tokens> current = jdbc.sql(
                            "select sealed from console.session where key_hash = ? and idle_expires_at > ?")
                    .params(session.keyHash(), Timestamp.from(clock.instant()))
                    .query((rs, n) -> rs.getBytes(1))
                    .optional()
                    .flatMap(sealed -> seal.open(sealed, session.keyHash()))
                    .flatMap(ConsoleSessions::decode);
            if (current.isEmpty()) {
                return Optional.empty();
            }
            Session stored = new Session(session.keyHash(), current.get());
            if (!refreshDue(stored)) {
                return Optional.of(stored); // another request refreshed it while this one waited
            }
            Optional<TokenEndpoint.Issued> issued = refresher.apply(current.get().refreshToken());
            if (issued.isEmpty()) {
                jdbc.sql("delete from console.session where key_hash = ?").param(session.keyHash()).update();
                return Optional.empty();
            }
            Tokens tokens = new Tokens(issued.get().accessToken(), issued.get().refreshToken(),
                    issued.get().accessExpiresAt(), current.get().csrfToken());
            jdbc.sql("update console.session set sealed = ?, idle_expires_at = ? where key_hash = ?")
                    .params(seal.seal(encode(tokens), session.keyHash()),
                            Timestamp.from(clock.instant().plus(idleTimeout)), session.keyHash())
                    .update();
            return Optional.of(new Session(session.keyHash(), tokens));
        } finally {
            lock.unlock();
        }
    }

    private static final java.util.concurrent.locks.Lock[] REFRESHING = java.util.stream.IntStream.range(0, 64)
            .mapToObj(i -> new java.util.concurrent.locks.ReentrantLock()).toArray(java.util.concurrent.locks.Lock[]::new);

    /** Ends a session here (its row) and in the browser (its cookie). */
    void end(Session session, HttpServletResponse response) {
        discard(session);
        forget(response);
    }

    /** Ends a session here only (its row): for a session another one replaces in the same browser. */
    void discard(Session session) {
        jdbc.sql("delete from console.session where key_hash = ?").param(session.keyHash()).update();
    }

    /** Tells the browser to drop its session cookie. */
    static void forget(HttpServletResponse response) {
        response.addHeader("Set-Cookie", cookie("", 0).toString());
    }

    private static ResponseCookie cookie(String value, long maxAgeSeconds) {
        return ResponseCookie.from(COOKIE, value).path("/").secure(true).httpOnly(true).sameSite("Lax")
                .maxAge(maxAgeSeconds).build();
    }

    private static Optional<byte[]> keyHash(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return Optional.empty();
        }
        for (Cookie cookie : cookies) {
            if (COOKIE.equals(cookie.getName()) && cookie.getValue() != null && KEY.matcher(cookie.getValue()).matches()) {
                return Optional.of(sha256(cookie.getValue()));
            }
        }
        return Optional.empty();
    }

    static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] encode(Tokens tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(tokens.accessToken());
            out.writeUTF(tokens.refreshToken());
            out.writeLong(tokens.accessExpiresAt().toEpochMilli());
            out.writeUTF(tokens.csrfToken());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    private static Optional<Tokens> decode(byte[] plain) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(plain))) {
            return Optional.of(new Tokens(in.readUTF(), in.readUTF(), Instant.ofEpochMilli(in.readLong()), in.readUTF()));
        } catch (IOException unreadable) {
            return Optional.empty();
        }
    }
}
