package health.carapace.signin.internal;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The accounts of {@code iam.app_user} as the sign-in pages need them. */
public final class UserDirectory {

    /** What sign-in needs to know about one account. No field is ever shown to the person signing in. */
    record Account(UUID id, String userName, String passwordHash, boolean disabled, byte[] totpSealed) {
        boolean mfaEnrolled() {
            return totpSealed != null;
        }
    }

    private final JdbcClient jdbc;

    UserDirectory(DataSource dataSource) {
        this.jdbc = JdbcClient.create(dataSource);
    }

    Optional<Account> byName(String userName) {
        if (userName == null || userName.isBlank() || userName.length() > 64) {
            return Optional.empty();
        }
        return jdbc.sql("select id, user_name, password_hash, disabled, totp_sealed from iam.app_user where lower(user_name) = lower(?)")
                .param(userName.strip())
                .query((rs, n) -> new Account(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                        rs.getBoolean(4), rs.getBytes(5)))
                .optional();
    }

    Optional<Account> byId(UUID id) {
        return jdbc.sql("select id, user_name, password_hash, disabled, totp_sealed from iam.app_user where id = ?")
                .param(id)
                .query((rs, n) -> new Account(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                        rs.getBoolean(4), rs.getBytes(5)))
                .optional();
    }

    /** The person as a caller (roles and practitioner from the directory now), if the account is enabled. */
    Optional<health.carapace.access.Caller> caller(UUID id) {
        return jdbc.sql("select user_name, roles, practitioner_id from iam.app_user where id = ? and not disabled")
                .param(id)
                .query((rs, n) -> new health.carapace.access.Caller(rs.getString(1), health.carapace.access.Caller.Kind.USER,
                        java.util.Set.of((String[]) rs.getArray(2).getArray()), rs.getString(3)))
                .optional();
    }

    /**
     * Accepts a TOTP time step for a user if no later-or-equal step was accepted before: the
     * atomic guard that makes every code single-use, even under concurrent submissions.
     */
    boolean acceptStep(UUID userId, long step) {
        return jdbc.sql("update iam.app_user set totp_last_step = ? where id = ? and not disabled"
                        + " and (totp_last_step is null or totp_last_step < ?)")
                .params(step, userId, step)
                .update() == 1;
    }

    /** Stores the sealed TOTP seed at first enrolment only: an enrolled seed is never replaced here. */
    boolean enrolTotp(UUID userId, byte[] sealed, long acceptedStep) {
        return jdbc.sql("update iam.app_user set totp_sealed = ?, totp_enrolled_at = ?, totp_last_step = ?"
                        + " where id = ? and totp_sealed is null and not disabled")
                .params(sealed, Timestamp.from(Instant.now()), acceptedStep, userId)
                .update() == 1;
    }

    /**
     * Redeems an enrolment link: marks it used and returns its user, if it exists, is unused and
     * has not expired. One statement, so a link is usable exactly once.
     */
    Optional<UUID> redeemEnrolment(String token, Instant now) {
        return jdbc.sql("update iam.enrolment set used_at = ? where token_hash = ? and used_at is null and expires_at > ?"
                        + " returning user_id")
                .params(Timestamp.from(now), hash(token), Timestamp.from(now))
                .query(UUID.class)
                .optional();
    }

    /** The user of a usable enrolment link, without using it (to decide whether to show the form). */
    Optional<Account> enrolmentUser(String token, Instant now) {
        return jdbc.sql("select user_id from iam.enrolment where token_hash = ? and used_at is null and expires_at > ?")
                .params(hash(token), Timestamp.from(now))
                .query(UUID.class)
                .optional()
                .flatMap(this::byId);
    }

    void setPassword(UUID userId, String passwordHash) {
        jdbc.sql("update iam.app_user set password_hash = ? where id = ?").params(passwordHash, userId).update();
    }

    static final String TOKEN_DIGEST = "SHA-256";

    /** Enrolment tokens are 256 random bits, so an unsalted SHA-256 is enough to make the stored value useless. */
    public static byte[] hash(String token) {
        try {
            return MessageDigest.getInstance(TOKEN_DIGEST).digest(
                    (token == null ? "" : token).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
