package health.carapace.crypto.internal;

import java.time.Duration;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The installation's budget of HSM logins refused for the PIN, kept in the keyring database that
 * every node and every CLI command of the installation shares (keyring migration V5, ADR 0049).
 *
 * <p>Each login is reserved with one UPDATE that checks and counts together, so nodes racing for the
 * last login cannot both send it: allowed while fewer than {@code attempts} are counted and, once one
 * is counted, only after {@code retry} doubling per counted login since the last reservation (a login
 * under way counts too, so a second node waits for the first one's outcome). A refusal keeps its
 * count; any other failure gives it back; a successful login sets the count to 0. A node that dies
 * between reserving and settling leaves its reservation counted: a login that may have been refused
 * is counted as refused. If the keyring cannot be read, nothing is reserved and no login is sent.
 */
final class HsmLoginBudget implements LoginBudget {

    private static final Logger log = LoggerFactory.getLogger(HsmLoginBudget.class);
    /** The row of the installation's one KEK token (also {@link health.carapace.crypto.HsmLogins}'s). */
    static final String TOKEN = "kek";

    private final JdbcClient jdbc;
    private final int attempts;
    private final Duration retry;
    /**
     * The {@code last_attempt_at} this budget's last reservation wrote, which settles only that
     * reservation (s9 review L-2): a later one of another node (after the wait, or a reset) is not
     * given back or zeroed by this one's outcome. Reservations of one budget are not concurrent (one
     * per session, taken under its reopening lock, or at its start).
     */
    private volatile java.sql.Timestamp reservedAt;

    HsmLoginBudget(DataSource keyring, HsmSession.Recovery recovery) {
        this.jdbc = JdbcClient.create(keyring);
        this.attempts = recovery.refusedLoginAttempts();
        this.retry = recovery.refusedLoginRetry();
    }

    @Override
    public Decision reserve() {
        try {
            Optional<java.sql.Timestamp> reserved = jdbc.sql("""
                    update keyring.hsm_login set refused = refused + 1, last_attempt_at = clock_timestamp()
                    where token = ? and refused < ?
                      and (refused = 0 or last_attempt_at is null or last_attempt_at
                           + make_interval(secs => ? * power(2, least(refused - 1, 20))) <= clock_timestamp())
                    returning last_attempt_at""")
                    .params(TOKEN, attempts, retry.toMillis() / 1000.0).query(java.sql.Timestamp.class).optional();
            if (reserved.isPresent()) {
                reservedAt = reserved.get();
                return Decision.ALLOWED;
            }
            // no row (a keyring that lost it) counts as spent: nobody logs in until an operator resets
            int counted = counted().orElse(attempts);
            return counted >= attempts ? Decision.EXHAUSTED : Decision.WAIT;
        } catch (RuntimeException e) {
            log.warn("The HSM login budget cannot be read from the keyring ({}): no login is sent until it can",
                    e.getClass().getSimpleName());
            return Decision.UNREACHABLE;
        }
    }

    @Override
    public int refused(String code) {
        try {
            return jdbc.sql("update keyring.hsm_login set last_code = ? where token = ? returning refused")
                    .params(code, TOKEN).query(Integer.class).optional().orElse(attempts);
        } catch (RuntimeException e) {
            // the reservation is counted already: nothing is lost by not writing the code
            return -1;
        }
    }

    @Override
    public void released() {
        try {
            jdbc.sql("update keyring.hsm_login set refused = refused - 1 where token = ? and refused > 0"
                            + " and last_attempt_at = ?")
                    .params(TOKEN, reservedAt).update();
        } catch (RuntimeException e) {
            // left counted: fail closed (an operator's reset gives it back)
            log.warn("An HSM login that was not refused could not be given back to the budget ({})",
                    e.getClass().getSimpleName());
        }
    }

    @Override
    public void succeeded() {
        try {
            // only while the last reservation is still this one's: another node's later one stays counted
            jdbc.sql("update keyring.hsm_login set refused = 0, last_code = null where token = ? and last_attempt_at = ?")
                    .params(TOKEN, reservedAt).update();
        } catch (RuntimeException e) {
            log.warn("A successful HSM login could not reset the login budget ({}); the next success will",
                    e.getClass().getSimpleName());
        }
    }

    @Override
    public int attempts() {
        return attempts;
    }

    /** The refused logins counted now (empty if the row is missing). */
    Optional<Integer> counted() {
        return jdbc.sql("select refused from keyring.hsm_login where token = ?").param(TOKEN).query(Integer.class)
                .optional();
    }
}
