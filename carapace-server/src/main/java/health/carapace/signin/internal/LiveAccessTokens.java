package health.carapace.signin.internal;

import health.carapace.access.Caller;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.oauth2.jwt.Jwt;

/**
 * Whether a verified access token still speaks for someone, and for whom: the one answer that the
 * API ({@link CallerResolution}) and the introspection endpoint ({@link AccessTokenIntrospection})
 * both give, so that no surface can call a token live that the other refuses. The signature,
 * its canonical form, the issuer and the expiry are the {@code JwtDecoder}'s part; this is the
 * directory's: the token's id not revoked ({@link RevokedTokens}), a service client not disabled,
 * a person's sign-in session open and their account not disabled. One query per token, and
 * then its answer is cached on this node for as long as nothing it depends on changes: every
 * such change is announced by PostgreSQL to every node ({@link CallerChanges}), which drops the
 * cache; while that channel is down, or not proven alive, every request is looked up again.
 * Only live answers are cached, each at most {@link #CACHED_AT_MOST} and never past the end of a
 * person's session as the query saw it.
 */
final class LiveAccessTokens {

    /** An upper bound on a cached answer's age, whatever is announced. */
    static final java.time.Duration CACHED_AT_MOST = java.time.Duration.ofSeconds(60);

    /** A live answer, the generation of {@link CallerChanges} it was computed in, and when it stops holding. */
    private record Cached(Caller caller, long generation, Instant until) {}

    private final JdbcClient jdbc;
    private final java.time.Clock clock;
    private final CallerChanges changes;
    private final com.github.benmanes.caffeine.cache.Cache<String, Cached> cache =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(50_000).build();

    LiveAccessTokens(DataSource dataSource, java.time.Clock clock, CallerChanges changes) {
        this.jdbc = JdbcClient.create(dataSource);
        this.clock = clock;
        this.changes = changes;
    }

    /** Whether the token was issued to a person (rather than to a service client). */
    static boolean ofPerson(Jwt token) {
        return "user".equals(token.getClaimAsString("kind"));
    }

    /**
     * The caller a token verified by the {@code JwtDecoder} acts for, if it is still live, as the
     * directory says it now: never cached. Introspection asks this (it is asked rarely, and is the
     * answer other systems rely on).
     */
    Optional<Caller> callerNow(Jwt token) {
        return lookup(token).map(Live::caller);
    }

    /** The caller a token verified by the {@code JwtDecoder} acts for, if it is still live (cached). */
    Optional<Caller> caller(Jwt token) {
        // The token's id with its subject and session: a cached answer is for exactly this token.
        String key = token.getId() + "|" + token.getSubject() + "|" + token.getClaimAsString("sid") + "|" + ofPerson(token);
        Instant now = clock.instant();
        Cached cached = cache.getIfPresent(key);
        if (cached != null && changes.live() && cached.generation() == changes.generation() && now.isBefore(cached.until())) {
            return Optional.of(cached.caller());
        }
        // Read before the query: an announcement that arrives while it runs makes this answer stale at once.
        long generation = changes.generation();
        Optional<Live> live = lookup(token);
        if (live.isEmpty()) {
            cache.invalidate(key);
            return Optional.empty();
        }
        Instant until = now.plus(CACHED_AT_MOST);
        if (live.get().sessionEnds() != null && live.get().sessionEnds().isBefore(until)) {
            until = live.get().sessionEnds();
        }
        cache.put(key, new Cached(live.get().caller(), generation, until));
        return Optional.of(live.get().caller());
    }

    private Optional<Live> lookup(Jwt token) {
        // Every token the server issues has an id; one without cannot be revoked, so it is refused.
        String tokenId = token.getId();
        if (tokenId == null || tokenId.isBlank() || token.getSubject() == null) {
            return Optional.empty();
        }
        return ofPerson(token) ? user(token, tokenId) : serviceClient(token, tokenId);
    }

    /** A live caller, and for a person when their session ends at the latest (idle or absolute). */
    private record Live(Caller caller, Instant sessionEnds) {}

    /**
     * A person: the token's sign-in session must be open (not revoked, not idle past the timeout,
     * not past its maximum lifetime), belong to the token's subject, and its user not be disabled;
     * the token itself must not be revoked; and the app it was issued to (its audience) must be
     * registered and enabled.
     */
    private Optional<Live> user(Jwt token, String tokenId) {
        UUID sessionId;
        try {
            sessionId = UUID.fromString(String.valueOf(token.getClaimAsString("sid")));
        } catch (IllegalArgumentException malformed) {
            return Optional.empty();
        }
        Timestamp now = Timestamp.from(clock.instant());
        return jdbc.sql("""
                select u.user_name, u.roles, u.practitioner_id, least(s.idle_expires_at, s.absolute_expires_at)
                from iam.session s join iam.app_user u on u.id = s.user_id
                where s.id = ? and s.revoked_at is null and s.idle_expires_at > ? and s.absolute_expires_at > ?
                  and not u.disabled and lower(u.user_name) = lower(?) and %s%s""".formatted(RevokedTokens.NOT_REVOKED,
                        APP_ENABLED))
                .params(sessionId, now, now, token.getSubject(), tokenId, appOf(token))
                .query((rs, n) -> new Live(new Caller(rs.getString(1), Caller.Kind.USER,
                        Set.of((String[]) rs.getArray(2).getArray()), rs.getString(3), SmartTokens.appScope(token)),
                        rs.getTimestamp(4).toInstant()))
                .optional();
    }

    /**
     * A person's token (issued to the sign-in app named in its audience: a SMART app, a plain one
     * such as the console, or start-dev's) ends when the app is disabled: the app is registered and
     * not disabled, checked like the session on every (uncached) lookup; disabling it announces a
     * caller change (V21_2), so cached answers go too, on every node. Every person token is issued
     * through a sign-in app (the authorization code grant is a sign-in app's only), so one naming no
     * enabled app is refused. (Only SMART apps' tokens were checked once: a plain app's went on
     * working after it was disabled, finding M3 of session 9.)
     */
    private static final String APP_ENABLED =
            "\n  and exists (select 1 from iam.login_app a where a.client_id = ? and not a.disabled)";

    /** The app the token was issued to; a token naming none (or several) names no app, and is refused. */
    private static String appOf(Jwt token) {
        java.util.List<String> audience = token.getAudience();
        return audience != null && audience.size() == 1 ? audience.get(0) : "";
    }

    /** A service client: not disabled, and the token not revoked. */
    private Optional<Live> serviceClient(Jwt token, String tokenId) {
        String clientId = token.getSubject();
        return jdbc.sql("select roles from iam.service_client where client_id = ? and not disabled and "
                        + RevokedTokens.NOT_REVOKED)
                .params(clientId, tokenId)
                .query((rs, n) -> new Live(new Caller(clientId, Caller.Kind.SERVICE_CLIENT,
                        Set.of((String[]) rs.getArray(1).getArray()), null, SmartTokens.appScope(token)), null))
                .optional();
    }
}
