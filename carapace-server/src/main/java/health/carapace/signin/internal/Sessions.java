package health.carapace.signin.internal;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Sign-in sessions ({@code iam.session}): one per completed login. A session is active while it
 * is not revoked, was used (a token issued) within the idle timeout, is younger than the maximum
 * lifetime, and its user is not disabled. Every API request of a person checks this row.
 */
public final class Sessions {

    /** An active session as of a token issuance: until when the next access token may live. */
    public record Active(UUID id, String userName, Instant idleExpiresAt, Instant absoluteExpiresAt) {}

    private final JdbcClient jdbc;
    private final SignInSettings settings;
    private final Clock clock;
    private final CallerChanges changes;

    Sessions(DataSource dataSource, SignInSettings settings, Clock clock, CallerChanges changes) {
        this.changes = changes;
        this.jdbc = JdbcClient.create(dataSource);
        this.settings = settings;
        this.clock = clock;
    }

    Clock clock() {
        return clock;
    }

    UUID open(UUID userId) {
        UUID id = UUID.randomUUID();
        Instant now = clock.instant();
        jdbc.sql("insert into iam.session (id, user_id, created_at, idle_expires_at, absolute_expires_at) values (?, ?, ?, ?, ?)")
                .params(id, userId, ts(now), ts(now.plus(settings.idleTimeout())), ts(now.plus(settings.maxLifetime())))
                .update();
        return id;
    }

    /**
     * Extends an active session's idle deadline because a token is being issued for it, and
     * returns it; empty when the session is no longer active (then no token may be issued).
     */
    Optional<Active> extend(UUID sessionId) {
        Instant now = clock.instant();
        return jdbc.sql("""
                update iam.session s set idle_expires_at = least(?, s.absolute_expires_at)
                from iam.app_user u
                where s.id = ? and u.id = s.user_id and s.revoked_at is null and s.idle_expires_at > ?
                  and s.absolute_expires_at > ? and not u.disabled
                returning s.id, u.user_name, s.idle_expires_at, s.absolute_expires_at""")
                .params(ts(now.plus(settings.idleTimeout())), sessionId, ts(now), ts(now))
                .query((rs, n) -> new Active(rs.getObject(1, UUID.class), rs.getString(2),
                        rs.getTimestamp(3).toInstant(), rs.getTimestamp(4).toInstant()))
                .optional();
    }

    /** Revokes one session; the user name if it was still open. */
    Optional<String> revoke(UUID sessionId) {
        Optional<String> revoked = jdbc.sql("""
                update iam.session s set revoked_at = ? from iam.app_user u
                where s.id = ? and u.id = s.user_id and s.revoked_at is null
                returning u.user_name""")
                .params(ts(clock.instant()), sessionId)
                .query(String.class)
                .optional();
        changes.changedHere();
        return revoked;
    }

    /** Revokes every open session of a user; how many were open. */
    public int revokeAll(UUID userId) {
        int revoked = jdbc.sql("update iam.session set revoked_at = ? where user_id = ? and revoked_at is null")
                .params(ts(clock.instant()), userId)
                .update();
        changes.changedHere();
        return revoked;
    }

    private static Timestamp ts(Instant instant) {
        return Timestamp.from(instant);
    }
}
