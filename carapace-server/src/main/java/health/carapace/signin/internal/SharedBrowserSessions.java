package health.carapace.signin.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.convert.support.GenericConversionService;
import org.springframework.session.config.SessionRepositoryCustomizer;
import org.springframework.session.jdbc.JdbcIndexedSessionRepository;
import org.springframework.session.jdbc.config.annotation.web.http.EnableJdbcHttpSession;
import org.springframework.session.web.http.CookieSerializer;
import org.springframework.session.web.http.DefaultCookieSerializer;

/**
 * The sign-in pages' browser session (saved authorization request, CSRF token, the step between
 * password and TOTP, the signed-in person until the code is issued) lives in PostgreSQL through
 * Spring Session, so consecutive steps of one sign-in may hit different nodes and no load
 * balancer needs sticky routing (ADR 0030). Both what is stored and what the browser holds are
 * sealed ({@link SignInStateSeal}): attribute values before they reach the table, and the
 * session id inside the cookie, so that reading the table does not let anyone resume a sign-in.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication
@EnableJdbcHttpSession(tableName = "iam.sign_in_session")
class SharedBrowserSessions {

    static final String COOKIE = "CARAPACE_SIGNIN";
    private static final String ATTRIBUTE_CONTEXT = "sign-in session attribute";
    private static final String COOKIE_CONTEXT = "sign-in session cookie";
    /** What a sign-in session may hold; the bytes are authenticated before they are read. */
    private static final ObjectInputFilter CONTENTS = ObjectInputFilter.Config.createFilter(
            "maxdepth=40;maxrefs=20000;maxbytes=1048576;java.**;org.springframework.**;health.carapace.**;!*");

    @Bean
    SessionRepositoryCustomizer<JdbcIndexedSessionRepository> sealedSignInSessions(SignInStateSeal seal,
            @Value("${server.servlet.session.timeout}") Duration timeout) {
        GenericConversionService sealing = new GenericConversionService();
        sealing.addConverter(Object.class, byte[].class, value -> seal.seal(serialised(value), ATTRIBUTE_CONTEXT));
        sealing.addConverter(byte[].class, Object.class, sealed -> seal.open(sealed, ATTRIBUTE_CONTEXT)
                .flatMap(SharedBrowserSessions::deserialised)
                // An attribute that does not open is dropped: the person starts the sign-in again.
                .orElse(null));
        return sessions -> {
            sessions.setConversionService(sealing);
            sessions.setDefaultMaxInactiveInterval(timeout);
            // No principal name column: who is signing in is not kept beside the session.
            sessions.setIndexResolver(session -> Map.of());
        };
    }

    @Bean
    CookieSerializer sealedSessionCookie(SignInStateSeal seal) {
        DefaultCookieSerializer cookie = new DefaultCookieSerializer();
        cookie.setCookieName(COOKIE);
        cookie.setCookiePath("/");
        cookie.setUseSecureCookie(true);
        cookie.setUseHttpOnlyCookie(true);
        cookie.setSameSite("Lax");
        cookie.setUseBase64Encoding(false);
        return new CookieSerializer() {
            @Override
            public void writeCookieValue(CookieValue value) {
                String id = value.getCookieValue();
                String sealed = id == null || id.isEmpty() ? "" : Base64.getUrlEncoder().withoutPadding()
                        .encodeToString(seal.seal(id.getBytes(StandardCharsets.US_ASCII), COOKIE_CONTEXT));
                CookieValue written = new CookieValue(value.getRequest(), value.getResponse(), sealed);
                written.setCookieMaxAge(value.getCookieMaxAge());
                cookie.writeCookieValue(written);
            }

            @Override
            public List<String> readCookieValues(jakarta.servlet.http.HttpServletRequest request) {
                return cookie.readCookieValues(request).stream()
                        .map(sealed -> opened(seal, sealed))
                        .flatMap(Optional::stream)
                        .toList();
            }
        };
    }

    /** The session id a cookie carries, or empty when the cookie was not sealed by this installation. */
    private static Optional<String> opened(SignInStateSeal seal, String sealed) {
        byte[] bytes;
        try {
            bytes = Base64.getUrlDecoder().decode(sealed);
        } catch (IllegalArgumentException notOurs) {
            return Optional.empty();
        }
        return seal.open(bytes, COOKIE_CONTEXT).map(id -> new String(id, StandardCharsets.US_ASCII));
    }

    private static byte[] serialised(Object value) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        } catch (IOException e) {
            throw new IllegalStateException("a sign-in session attribute could not be serialised", e);
        }
        return bytes.toByteArray();
    }

    private static Optional<Object> deserialised(byte[] plain) {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(plain))) {
            in.setObjectInputFilter(CONTENTS);
            return Optional.ofNullable(in.readObject());
        } catch (IOException | ClassNotFoundException | RuntimeException unreadable) {
            return Optional.empty();
        }
    }
}
