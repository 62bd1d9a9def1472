package health.carapace.signin.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Principal;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.OAuth2Token;
import org.springframework.security.oauth2.core.endpoint.OAuth2ParameterNames;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationCode;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.transaction.support.TransactionOperations;

/**
 * Issued authorizations (codes, access and refresh tokens, and what they were issued for) in
 * PostgreSQL, shared by every node (ADR 0030): a code issued on one node is redeemed on another,
 * a refresh token keeps working across a restart. Tokens are found by their SHA-256 only; the
 * authorization itself is sealed ({@link SignInStateSeal}, its id as associated data), so the
 * database holds no token or code in a usable form. Spring's own JDBC service keeps every value
 * in clear, which is why it is not used.
 * <p>
 * It also watches the sign-in sessions behind the authorizations:
 * <ul>
 *   <li>a refresh or access token invalidated by revocation (logout) or by the reuse of an
 *       authorization code ends its session;</li>
 *   <li>a refresh token that was already rotated and comes back (a replay, so one of the two
 *       holders is a thief) is refused and ends its session, whichever node sees it;</li>
 *   <li>two requests that use the same refresh token or code at once (on one node or two) both
 *       read the same version of the authorization; only the first save wins, the other is
 *       refused with invalid_grant and ends the session as a replay ({@link #VERSION}).</li>
 * </ul>
 * Rows live as long as the authorization's longest-lived token; expired ones are pruned at most
 * once a minute by whichever node saves next.
 */
final class StoredAuthorizations implements OAuth2AuthorizationService {

    /** Why a session is being ended. */
    enum Ending { REVOKED, REPLAYED }

    private static final OAuth2TokenType CODE = new OAuth2TokenType(OAuth2ParameterNames.CODE);
    /**
     * The authorization's version, kept inside it (sealed): each save must carry the version it
     * read and stores the next one, so of two requests that read the same version only the first
     * save wins. A new authorization starts at 0.
     */
    static final String VERSION = "health.carapace.signin.version";
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(1);
    /**
     * What a sealed authorization may contain. The bytes are authenticated before they are read,
     * so this only limits what a future change could put there by mistake.
     */
    private static final ObjectInputFilter CONTENTS = ObjectInputFilter.Config.createFilter(
            "maxdepth=40;maxrefs=20000;maxbytes=1048576;java.**;org.springframework.**;health.carapace.**;!*");

    private final JdbcClient jdbc;
    private final TransactionOperations transactions;
    private final SignInStateSeal seal;
    private final Duration fallbackLifetime;
    private final BiConsumer<HumanLogin, Ending> sessionEnded;
    /** Whether a refresh token was listed as revoked ({@link RevokedTokens}). */
    private final Predicate<String> refreshTokenRevokedElsewhere;
    private final AtomicReference<Instant> lastPruned = new AtomicReference<>(Instant.EPOCH);
    /** Audits an authorization sealed under a key id this installation does not hold. */
    private final SignInStateRefusals refusals;

    StoredAuthorizations(DataSource dataSource, TransactionOperations transactions, SignInStateSeal seal,
            Duration fallbackLifetime, BiConsumer<HumanLogin, Ending> sessionEnded,
            Predicate<String> refreshTokenRevokedElsewhere, SignInStateRefusals refusals) {
        this.jdbc = JdbcClient.create(dataSource);
        this.transactions = transactions;
        this.seal = seal;
        this.fallbackLifetime = fallbackLifetime;
        this.sessionEnded = sessionEnded;
        this.refreshTokenRevokedElsewhere = refreshTokenRevokedElsewhere;
        this.refusals = refusals;
    }

    @Override
    public void save(OAuth2Authorization authorization) {
        if (AuthorizationGrantType.CLIENT_CREDENTIALS.equals(authorization.getAuthorizationGrantType())) {
            // A service client's grant holds one self-contained access token and nothing else (no
            // code, no refresh token, no session), and nothing reads it back: the token is revoked
            // through the shared deny list (AccessTokenRevocation, RevokedTokens) and introspected
            // by verifying it (AccessTokenIntrospection). Storing it cost a sealed serialisation and
            // a transaction of four statements per token issued (docs/BENCHMARKS.md, issue 18).
            return;
        }
        Instant expiresAt = expiryOf(authorization);
        Timestamp expiry = Timestamp.from(expiresAt);
        Saved saved = transactions.execute(status -> {
            Optional<byte[]> stored = jdbc.sql("select sealed from iam.authorization_grant where id = ? for update")
                    .param(authorization.getId()).query(byte[].class).optional();
            OAuth2Authorization before = stored.flatMap(sealed -> unseal(authorization.getId(), sealed)).orElse(null);
            Object carried = authorization.getAttribute(VERSION);
            if (stored.isPresent() || carried != null) {
                // Another request saved (or removed) this authorization since this one was read: a
                // lost race, such as one refresh token or code used twice at once. Nothing is written.
                if (before == null || !Objects.equals(before.getAttribute(VERSION), carried)) {
                    return new Saved(null, true);
                }
            }
            // Authorizations saved before versions were kept carry none: they continue from 0.
            long version = before == null ? 0 : carried == null ? 1 : ((Number) carried).longValue() + 1;
            OAuth2Authorization versioned = OAuth2Authorization.from(authorization).attribute(VERSION, version).build();
            jdbc.sql("insert into iam.authorization_grant (id, expires_at, sealed) values (?, ?, ?)"
                            + " on conflict (id) do update set expires_at = excluded.expires_at, sealed = excluded.sealed")
                    .params(authorization.getId(), expiry, sealed(versioned))
                    .update();
            List<byte[]> current = new ArrayList<>();
            for (HeldToken held : tokensOf(authorization)) {
                current.add(hash(held.value()));
            }
            // Tokens the authorization no longer holds are no longer found by (a rotated refresh token is kept, retired).
            jdbc.sql("delete from iam.authorization_token where authorization_id = ? and not retired"
                            + " and not (token_hash = any (?))")
                    .params(authorization.getId(), current.toArray(new byte[0][]))
                    .update();
            if (before != null && before.getRefreshToken() != null) {
                String old = before.getRefreshToken().getToken().getTokenValue();
                if (authorization.getRefreshToken() == null
                        || !old.equals(authorization.getRefreshToken().getToken().getTokenValue())) {
                    jdbc.sql("insert into iam.authorization_token (token_hash, authorization_id, kind, retired, expires_at)"
                                    + " values (?, ?, 'refresh', true, ?)"
                                    + " on conflict (token_hash) do update set retired = true, expires_at = excluded.expires_at")
                            .params(hash(old), authorization.getId(), expiry)
                            .update();
                }
            }
            for (HeldToken held : tokensOf(authorization)) {
                jdbc.sql("insert into iam.authorization_token (token_hash, authorization_id, kind, retired, expires_at)"
                                + " values (?, ?, ?, false, ?)"
                                + " on conflict (token_hash) do update set authorization_id = excluded.authorization_id,"
                                + " kind = excluded.kind, retired = false, expires_at = excluded.expires_at")
                        .params(hash(held.value()), authorization.getId(), held.kind(), expiry)
                        .update();
            }
            return new Saved(before, false);
        });
        if (saved.lostRace()) {
            // Two holders used the same grant at once, so one of them may be a thief: like a replay,
            // the session ends (outside the transaction, as for a replay) and this request gets no token.
            loginOf(authorization).ifPresent(login -> sessionEnded.accept(login, Ending.REPLAYED));
            throw new OAuth2AuthenticationException(new OAuth2Error(OAuth2ErrorCodes.INVALID_GRANT));
        }
        OAuth2Authorization previous = saved.before();
        if (newlyInvalidated(previous == null ? null : previous.getRefreshToken(), authorization.getRefreshToken())
                || newlyInvalidated(previous == null ? null : previous.getAccessToken(), authorization.getAccessToken())) {
            loginOf(authorization).ifPresent(login -> sessionEnded.accept(login, Ending.REVOKED));
        }
        pruneExpired();
    }

    /** What a save found stored, or that it lost a race and wrote nothing. */
    private record Saved(OAuth2Authorization before, boolean lostRace) {}

    /**
     * A token of the authorization was revoked (RFC 7009), or invalidated because its code was
     * reused. A person's access token is self-contained, so revoking it means ending its session.
     */
    private static boolean newlyInvalidated(OAuth2Authorization.Token<?> before, OAuth2Authorization.Token<?> now) {
        if (now == null || !now.isInvalidated()) {
            return false;
        }
        return before == null || !before.getToken().getTokenValue().equals(now.getToken().getTokenValue())
                || !before.isInvalidated();
    }

    @Override
    public void remove(OAuth2Authorization authorization) {
        jdbc.sql("delete from iam.authorization_grant where id = ?").param(authorization.getId()).update();
    }

    @Override
    public OAuth2Authorization findById(String id) {
        if (id == null) {
            return null;
        }
        return load(id).orElse(null);
    }

    @Override
    public OAuth2Authorization findByToken(String token, OAuth2TokenType tokenType) {
        if (token == null) {
            return null;
        }
        byte[] hash = hash(token);
        Optional<TokenRow> row = jdbc.sql("select authorization_id, retired from iam.authorization_token"
                        + " where token_hash = ? and expires_at > ?")
                .params(hash, Timestamp.from(Instant.now()))
                .query((rs, n) -> new TokenRow(rs.getString(1), rs.getBoolean(2)))
                .optional();
        if (row.isEmpty()) {
            return null;
        }
        if (row.get().retired()) {
            if (tokenType == null || OAuth2TokenType.REFRESH_TOKEN.equals(tokenType)) {
                endReplayedSession(hash, row.get().authorizationId());
            }
            return null;
        }
        OAuth2Authorization authorization = load(row.get().authorizationId()).orElse(null);
        if (authorization == null || !holds(authorization, token, tokenType)) {
            return null;
        }
        if (authorization.getRefreshToken() != null
                && token.equals(authorization.getRefreshToken().getToken().getTokenValue())
                && refreshTokenRevokedElsewhere.test(token)) {
            // Listed as revoked without its authorization being invalidated: the revocation holds, and ends the session.
            remove(authorization);
            loginOf(authorization).ifPresent(login -> sessionEnded.accept(login, Ending.REVOKED));
            return null;
        }
        return authorization;
    }

    /**
     * Only one node sees a replay: the retired row goes with it, and that node ends the session, in
     * one transaction. If the session cannot be ended (a database blip, an authorization that does
     * not open), the row comes back and the next replay is seen again; the request is refused
     * either way.
     */
    private void endReplayedSession(byte[] hash, String authorizationId) {
        try {
            transactions.executeWithoutResult(status -> {
                if (jdbc.sql("delete from iam.authorization_token where token_hash = ? and retired").param(hash)
                        .update() != 1) {
                    return; // another request saw it first
                }
                HumanLogin login = load(authorizationId).flatMap(StoredAuthorizations::loginOf)
                        .orElseThrow(() -> new IllegalStateException("a replayed token's authorization does not open"));
                sessionEnded.accept(login, Ending.REPLAYED);
            });
        } catch (RuntimeException notEnded) {
            org.slf4j.LoggerFactory.getLogger(StoredAuthorizations.class).warn(
                    "The session of a replayed refresh token could not be ended yet ({})", notEnded.getClass().getName());
        }
    }

    private record TokenRow(String authorizationId, boolean retired) {}

    private record HeldToken(String kind, String value) {}

    private Optional<OAuth2Authorization> load(String id) {
        return jdbc.sql("select sealed from iam.authorization_grant where id = ? and expires_at > ?")
                .params(id, Timestamp.from(Instant.now()))
                .query(byte[].class).optional()
                .flatMap(sealed -> unseal(id, sealed));
    }

    private byte[] sealed(OAuth2Authorization authorization) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(authorization);
        } catch (IOException e) {
            throw new IllegalStateException("an authorization could not be serialised", e);
        }
        return seal.seal(bytes.toByteArray(), context(authorization.getId()));
    }

    /**
     * The stored authorization, or empty when it does not open (altered, moved to another id,
     * sealed under a key destroyed since, or written by a version whose classes no longer read
     * it): its holder signs in again. A key id this installation does not hold is audited.
     */
    private Optional<OAuth2Authorization> unseal(String id, byte[] sealed) {
        health.carapace.crypto.StateSeal.Opening opening = seal.opening(sealed, context(id));
        if (opening.refusal() == health.carapace.crypto.StateSeal.Refusal.UNKNOWN_KEY) {
            refusals.refused(SignInStateRefusals.UNKNOWN_KEY);
        }
        return opening.value().flatMap(plain -> {
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(plain))) {
                in.setObjectInputFilter(CONTENTS);
                return in.readObject() instanceof OAuth2Authorization authorization && authorization.getId().equals(id)
                        ? Optional.of(authorization) : Optional.empty();
            } catch (IOException | ClassNotFoundException | RuntimeException unreadable) {
                return Optional.empty();
            }
        });
    }

    private static String context(String id) {
        return "authorization:" + id;
    }

    private void pruneExpired() {
        Instant now = Instant.now();
        Instant last = lastPruned.get();
        if (now.isBefore(last.plus(PRUNE_EVERY)) || !lastPruned.compareAndSet(last, now)) {
            return;
        }
        Timestamp cutoff = Timestamp.from(now);
        jdbc.sql("delete from iam.authorization_grant where expires_at <= ?").param(cutoff).update();
        jdbc.sql("delete from iam.authorization_token where expires_at <= ?").param(cutoff).update();
    }

    static byte[] hash(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static boolean holds(OAuth2Authorization authorization, String token, OAuth2TokenType tokenType) {
        if (tokenType == null) {
            return tokensOf(authorization).stream().anyMatch(t -> t.value().equals(token));
        }
        OAuth2Authorization.Token<?> held = OAuth2TokenType.ACCESS_TOKEN.equals(tokenType) ? authorization.getAccessToken()
                : OAuth2TokenType.REFRESH_TOKEN.equals(tokenType) ? authorization.getRefreshToken()
                : CODE.equals(tokenType) ? authorization.getToken(OAuth2AuthorizationCode.class)
                : null;
        return held != null && held.getToken().getTokenValue().equals(token);
    }

    private static List<HeldToken> tokensOf(OAuth2Authorization authorization) {
        List<HeldToken> tokens = new ArrayList<>();
        if (authorization.getAccessToken() != null) {
            tokens.add(new HeldToken("access", authorization.getAccessToken().getToken().getTokenValue()));
        }
        if (authorization.getRefreshToken() != null) {
            tokens.add(new HeldToken("refresh", authorization.getRefreshToken().getToken().getTokenValue()));
        }
        OAuth2Authorization.Token<OAuth2AuthorizationCode> code = authorization.getToken(OAuth2AuthorizationCode.class);
        if (code != null) {
            tokens.add(new HeldToken("code", code.getToken().getTokenValue()));
        }
        return tokens;
    }

    private Instant expiryOf(OAuth2Authorization authorization) {
        Instant latest = null;
        for (OAuth2Token token : heldTokens(authorization)) {
            if (token.getExpiresAt() != null && (latest == null || token.getExpiresAt().isAfter(latest))) {
                latest = token.getExpiresAt();
            }
        }
        return latest != null ? latest : Instant.now().plus(fallbackLifetime);
    }

    private static List<OAuth2Token> heldTokens(OAuth2Authorization authorization) {
        List<OAuth2Token> tokens = new ArrayList<>();
        if (authorization.getAccessToken() != null) {
            tokens.add(authorization.getAccessToken().getToken());
        }
        if (authorization.getRefreshToken() != null) {
            tokens.add(authorization.getRefreshToken().getToken());
        }
        OAuth2Authorization.Token<OAuth2AuthorizationCode> code = authorization.getToken(OAuth2AuthorizationCode.class);
        if (code != null) {
            tokens.add(code.getToken());
        }
        return tokens;
    }

    private static Optional<HumanLogin> loginOf(OAuth2Authorization authorization) {
        Object principal = authorization.getAttribute(Principal.class.getName());
        return principal instanceof HumanLogin login ? Optional.of(login) : Optional.empty();
    }
}
