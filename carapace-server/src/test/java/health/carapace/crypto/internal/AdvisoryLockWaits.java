package health.carapace.crypto.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import javax.sql.DataSource;
import org.awaitility.Awaitility;

/** For tests that hold a keyring lock on one connection and must know another caller now waits for it. */
final class AdvisoryLockWaits {

    private AdvisoryLockWaits() {
    }

    /** Returns once some backend waits for an advisory lock that {@code holder}'s backend holds. */
    static void awaitBlockedBy(DataSource pool, Connection holder) throws Exception {
        int holderPid;
        try (ResultSet rs = holder.createStatement().executeQuery("select pg_backend_pid()")) {
            rs.next();
            holderPid = rs.getInt(1);
        }
        Awaitility.await("someone waits for the advisory lock held by backend " + holderPid)
                .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                .until(() -> {
                    try (Connection c = pool.getConnection();
                            PreparedStatement s = c.prepareStatement("select count(*) from pg_locks where locktype = 'advisory'"
                                    + " and not granted and ? = any(pg_blocking_pids(pid))")) {
                        s.setInt(1, holderPid);
                        try (ResultSet rs = s.executeQuery()) {
                            rs.next();
                            return rs.getInt(1) > 0;
                        }
                    }
                });
    }
}
