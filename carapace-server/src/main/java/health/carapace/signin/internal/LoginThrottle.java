package health.carapace.signin.internal;

import health.carapace.crypto.SystemSecrets;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Failed sign-in counters with exponential back-off, per account name, per service-client id and
 * per client address, in the database ({@code iam.login_failure}), so every node sees the same
 * counts.
 *
 * <p>Account: after the n-th consecutive failure the next attempt is refused for
 * {@code backoffBase × 2^(n-1)} (capped at the lockout), and at {@code maxFailures} the account is
 * locked for {@code lockout}. Client id (the token endpoint's client secrets): the first
 * {@code maxFailures} failures are free, then the next attempt waits {@code backoffBase} and each
 * further failure doubles the wait (capped at the lockout), without a hard lock, since anyone who
 * knows a client id could otherwise lock a service out. Address: the first {@code 5 × maxFailures}
 * failures are free (an office behind one NAT address), then the same doubling applies, without a
 * hard lock; the sign-in pages and the token endpoint count an address separately, so that
 * neither surface can reset the other's count. Failures older than the lockout are forgotten; a
 * complete sign-in resets the account's and the address's sign-in counters, a client that
 * authenticates resets its own and the address's token-endpoint counter. Names and client ids
 * that do not exist are counted exactly like those that do, so the throttle does not reveal which
 * exist. Keys are HMACs under a keyring secret: a password typed into the name field is not stored.
 */
final class LoginThrottle {

    /** Counter keys are HMACs under a 256-bit keyring secret, so the table holds no user name or address. */
    static final String MAC = "HmacSHA256";

    /** Whether this failure locked the account (for the audit trail). */
    record Failure(boolean locked) {}

    private final JdbcClient jdbc;
    private final SignInSettings settings;
    private final Clock clock;
    private final SecretKeySpec key;

    LoginThrottle(DataSource dataSource, SystemSecrets secrets, SignInSettings settings, Clock clock) {
        this.jdbc = JdbcClient.create(dataSource);
        this.settings = settings;
        this.clock = clock;
        this.key = new SecretKeySpec(secrets.getOrCreate("login-throttle-key", () -> {
            byte[] fresh = new byte[32];
            new SecureRandom().nextBytes(fresh);
            return fresh;
        }), MAC);
    }

    /** The counter key's size, for the algorithm check. */
    int keyBits() {
        return key.getEncoded().length * 8;
    }

    /** Whether an attempt for this account from this address may be checked at all now. */
    boolean allows(String userName, String address) {
        Instant now = clock.instant();
        return wait(accountKey(userName), now, 1).isZero() && wait(addressKey(address), now, addressFreeFailures() + 1).isZero();
    }

    /**
     * How long before a client secret for this client id, from this address, may be checked at
     * all; zero when it may be checked now.
     */
    Duration clientWait(String clientId, String address) {
        Instant now = clock.instant();
        Duration client = wait(clientKey(clientId), now, settings.maxFailures());
        Duration fromAddress = wait(clientAddressKey(address), now, addressFreeFailures());
        return client.compareTo(fromAddress) >= 0 ? client : fromAddress;
    }

    void clientFailed(String clientId, String address) {
        Instant now = clock.instant();
        count(clientAddressKey(address), now);
        count(clientKey(clientId), now);
    }

    void clientSucceeded(String clientId, String address) {
        jdbc.sql("delete from iam.login_failure where key in (?, ?)")
                .params(clientKey(clientId), clientAddressKey(address))
                .update();
    }

    Failure failed(String userName, String address) {
        Instant now = clock.instant();
        count(addressKey(address), now);
        byte[] account = accountKey(userName);
        int failures = count(account, now);
        if (failures >= settings.maxFailures()) {
            jdbc.sql("update iam.login_failure set locked_until = ? where key = ?")
                    .params(Timestamp.from(now.plus(settings.lockout())), account)
                    .update();
            return new Failure(true);
        }
        return new Failure(false);
    }

    void succeeded(String userName, String address) {
        jdbc.sql("delete from iam.login_failure where key in (?, ?)")
                .params(accountKey(userName), addressKey(address))
                .update();
    }

    private int addressFreeFailures() {
        return 5 * settings.maxFailures();
    }

    /**
     * How long until the next attempt under this key may be checked (zero: now).
     *
     * @param firstDelayedFailure the failure count from which a delay applies
     */
    private Duration wait(byte[] key, Instant now, int firstDelayedFailure) {
        return jdbc.sql("select failures, last_failure_at, locked_until from iam.login_failure where key = ?")
                .param(key)
                .query((rs, n) -> {
                    Instant last = rs.getTimestamp(2).toInstant();
                    Timestamp lockedUntil = rs.getTimestamp(3);
                    if (lockedUntil != null && lockedUntil.toInstant().isAfter(now)) {
                        return Duration.between(now, lockedUntil.toInstant());
                    }
                    if (last.plus(settings.lockout()).isBefore(now)) {
                        return Duration.ZERO; // forgotten
                    }
                    int failures = rs.getInt(1);
                    if (failures < firstDelayedFailure) {
                        return Duration.ZERO;
                    }
                    Instant next = last.plus(delay(failures - firstDelayedFailure));
                    return now.isBefore(next) ? Duration.between(now, next) : Duration.ZERO;
                })
                .optional()
                .orElse(Duration.ZERO);
    }

    private Duration delay(int doublings) {
        Duration delay = settings.backoffBase();
        for (int i = 0; i < doublings && delay.compareTo(settings.lockout()) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        return delay.compareTo(settings.lockout()) > 0 ? settings.lockout() : delay;
    }

    private int count(byte[] key, Instant now) {
        return jdbc.sql("""
                insert into iam.login_failure (key, failures, last_failure_at) values (?, 1, ?)
                on conflict (key) do update set
                  failures = case when iam.login_failure.last_failure_at < ? then 1 else iam.login_failure.failures + 1 end,
                  last_failure_at = excluded.last_failure_at
                returning failures""")
                .params(key, Timestamp.from(now), Timestamp.from(now.minus(settings.lockout())))
                .query(Integer.class)
                .single();
    }

    private byte[] accountKey(String userName) {
        return hmac("account:" + (userName == null ? "" : userName.strip().toLowerCase(Locale.ROOT)));
    }

    private byte[] clientKey(String clientId) {
        return hmac("client:" + (clientId == null ? "" : clientId));
    }

    private byte[] clientAddressKey(String address) {
        return hmac("client-address:" + address);
    }

    private byte[] addressKey(String address) {
        return hmac("address:" + address);
    }

    private byte[] hmac(String value) {
        try {
            Mac mac = Mac.getInstance(MAC);
            mac.init(key);
            return mac.doFinal(value.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(MAC + " is unavailable", e);
        }
    }
}
