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
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Failed sign-in counters with exponential back-off, per account name, per service-client id and
 * per client address, in the database ({@code iam.login_failure}), so every node sees the same
 * counts.
 *
 * <p>Account: after the n-th consecutive failure the next attempt is refused for
 * {@code backoffBase × 2^(n-1)} (capped at the lockout), and at {@code maxFailures} the account is
 * locked for {@code lockout}. Client secrets (the token endpoint), counted before each check
 * ({@link #reserveClientAttempt}): per client id from one address, the first {@code maxFailures}
 * failures are free, then the next attempt waits {@code backoffBase} and each further failure
 * doubles the wait (capped at the lockout), without a hard lock; per client id over all addresses,
 * the same doubling capped at {@link #CLIENT_ID_WAIT_CAP}, applied only to an address that has
 * itself failed for that client id, since anyone who knows a client id could otherwise shut its
 * service out. Address: the first {@code 5 × maxFailures}
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

    /**
     * The longest wait of a client id over all addresses: a rate limit that slows a guesser spread
     * over many addresses, short enough that it never shuts the service out for long.
     */
    static final Duration CLIENT_ID_WAIT_CAP = Duration.ofSeconds(5);

    /** The advisory-lock key space of the client-secret counters (the two-int form; "thrt"). */
    private static final int LOCK_SPACE = 0x74687274;

    /** Whether this failure locked the account (for the audit trail). */
    record Failure(boolean locked) {}

    /** A sign-in check let through (and counted as a failure until it succeeds), or refused. */
    record Attempt(boolean allowed, boolean locksAccount) {}

    private final JdbcClient jdbc;
    private final SignInSettings settings;
    private final Clock clock;
    private final SecretKeySpec key;
    private final TransactionTemplate transactions;

    LoginThrottle(DataSource dataSource, SystemSecrets secrets, SignInSettings settings, Clock clock) {
        this.jdbc = JdbcClient.create(dataSource);
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
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
        return wait(accountKey(userName), now, 1, settings.lockout()).isZero()
                && wait(addressKey(address), now, addressFreeFailures() + 1, settings.lockout()).isZero();
    }

    /**
     * Reserves one password or code check for this account from this address. As with client
     * secrets ({@link #reserveClientAttempt}), the attempt is counted as a failure before the
     * secret is looked at, under advisory locks on the account's and the address's counters, so
     * concurrent guesses see each other: no more checks run than the back-off and the lockout
     * allow, however many arrive at once. A check that then succeeds is taken back
     * ({@link #release}) or, once the person is signed in, clears the counts ({@link #succeeded}).
     */
    Attempt reserve(String userName, String address) {
        byte[][] keys = {accountKey(userName), addressKey(address)};
        return transactions.execute(transaction -> {
            java.util.Arrays.stream(keys).mapToInt(LoginThrottle::lockId).sorted().distinct().forEach(id ->
                    jdbc.sql("select pg_advisory_xact_lock(?, ?)").params(LOCK_SPACE, id).query(Object.class).single());
            if (!allows(userName, address)) {
                return new Attempt(false, false);
            }
            return new Attempt(true, failed(userName, address).locked());
        });
    }

    /**
     * Dates a reserved attempt's failure from when its check failed, not from when it was
     * reserved: the back-off is the time between a failure's answer and the next check, however
     * long the password hash took.
     */
    void confirmFailure(String userName, String address) {
        jdbc.sql("update iam.login_failure set last_failure_at = ? where key in (?, ?)")
                .params(Timestamp.from(clock.instant()), accountKey(userName), addressKey(address))
                .update();
    }

    /**
     * Takes back a reservation whose check succeeded on the way to signing in (the password, before
     * the second factor): it was no failure, and must not slow the next step down.
     */
    void release(String userName, String address) {
        jdbc.sql("""
                update iam.login_failure set failures = greatest(failures - 1, 0), locked_until = null
                where key in (?, ?)""")
                .params(accountKey(userName), addressKey(address))
                .update();
    }

    /**
     * Reserves one client-secret check for this client id from this address, or says how long to
     * wait. Reserving counts the attempt as a failure before the secret is looked at, under a
     * transaction-scoped advisory lock per counter key (shared by every node), so concurrent
     * attempts see each other's counts: no more checks run than the limits allow, however many
     * arrive at once. A client that then authenticates clears the counts
     * ({@link #clientSucceeded}). A refused reservation counts nothing.
     *
     * @return zero when the check may run now (and has been counted), else the wait
     */
    Duration reserveClientAttempt(String clientId, String address) {
        byte[][] keys = {clientFromAddressKey(clientId, address), clientKey(clientId), clientAddressKey(address)};
        return transactions.execute(transaction -> {
            // Locks taken in one order, so two attempts cannot wait for each other.
            java.util.Arrays.stream(keys).mapToInt(LoginThrottle::lockId).sorted().distinct().forEach(id ->
                    jdbc.sql("select pg_advisory_xact_lock(?, ?)").params(LOCK_SPACE, id).query(Object.class).single());
            Instant now = clock.instant();
            Duration wait = clientWait(clientId, address, now);
            if (wait.isZero()) {
                for (byte[] key : keys) {
                    count(key, now);
                }
            }
            return wait;
        });
    }

    /**
     * How long before a client secret for this client id, from this address, may be checked at
     * all; zero when it may be checked now.
     */
    Duration clientWait(String clientId, String address) {
        return clientWait(clientId, address, clock.instant());
    }

    /**
     * The longest of: the back-off of this client id from this address (the long one, up to the
     * lockout); the client id's short rate limit over all addresses, which applies only to an
     * address that has itself failed for this client id (so a stranger elsewhere cannot hold the
     * client's own address off); and the address's own back-off over all client ids.
     */
    private Duration clientWait(String clientId, String address, Instant now) {
        byte[] fromAddress = clientFromAddressKey(clientId, address);
        Duration pair = wait(fromAddress, now, settings.maxFailures(), settings.lockout());
        Duration client = recentFailures(fromAddress, now) > 0
                ? wait(clientKey(clientId), now, settings.maxFailures(), CLIENT_ID_WAIT_CAP)
                : Duration.ZERO;
        Duration anyClient = wait(clientAddressKey(address), now, addressFreeFailures(), settings.lockout());
        return java.util.stream.Stream.of(pair, client, anyClient).max(Duration::compareTo).orElseThrow();
    }

    /** Clears the client id's counts (from this address and over all) and the address's count. */
    void clientSucceeded(String clientId, String address) {
        jdbc.sql("delete from iam.login_failure where key in (?, ?, ?)")
                .params(clientFromAddressKey(clientId, address), clientKey(clientId), clientAddressKey(address))
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
     * @param cap the longest delay
     */
    private Duration wait(byte[] key, Instant now, int firstDelayedFailure, Duration cap) {
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
                    Duration delay = delay(failures - firstDelayedFailure);
                    Instant next = last.plus(delay.compareTo(cap) > 0 ? cap : delay);
                    return now.isBefore(next) ? Duration.between(now, next) : Duration.ZERO;
                })
                .optional()
                .orElse(Duration.ZERO);
    }

    /** Failures counted under this key that are not yet forgotten. */
    private int recentFailures(byte[] key, Instant now) {
        return jdbc.sql("select failures from iam.login_failure where key = ? and last_failure_at >= ?")
                .params(key, Timestamp.from(now.minus(settings.lockout())))
                .query(Integer.class)
                .optional()
                .orElse(0);
    }

    /** The advisory lock of a counter key: its first 32 bits (a collision only serialises two keys). */
    private static int lockId(byte[] key) {
        return java.nio.ByteBuffer.wrap(key).getInt();
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

    private byte[] clientFromAddressKey(String clientId, String address) {
        // The address has no spaces, so the pair reads back one way only.
        return hmac("client-from:" + address + " " + (clientId == null ? "" : clientId));
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
