package health.carapace.platform.web;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.transaction.TransactionSystemException;

/**
 * Whether a failure means a dependency (a database) is unreachable, rather than a fault of the
 * request or of the server: such a request is answered 503 and may be retried once the dependency
 * is back (issue 21). Nothing here reads an exception's message, which may echo input.
 */
public final class DependencyOutage {

    /** The answer's text: names no dependency and nothing of the request. */
    public static final String MESSAGE = "A service this request needs is unavailable, so it was not carried out; "
            + "try again later";

    private DependencyOutage() {
    }

    public static boolean causedBy(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException || t instanceof DataAccessResourceFailureException
                    || t instanceof TransientDataAccessResourceException || t instanceof RecoverableDataAccessException) {
                return true;
            }
            // A commit or rollback that could not complete: the connection was lost in the middle of
            // the transaction (a failover), and the pool's closed connection then fails the rollback
            // with an SQLException of no state. Whether the commit took effect is unknown; it was not
            // acknowledged, and the client may retry once the database is back.
            // But a rollback that failed after the work itself failed for another reason (an integrity
            // alarm, a bug) is that reason's failure, not an outage: the transaction keeps it aside as
            // its application exception, outside the cause chain (review of ADR 0034).
            if (t instanceof TransactionSystemException failed) {
                Throwable work = failed.getApplicationException();
                return work == null || causedBy(work);
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null && isOutage(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    private static boolean isOutage(String sqlState) {
        // class 08: connection exception (the server went away, or refused the connection);
        // 57P01-57P03: the server is shutting down, crashed, or cannot take connections yet (a
        // failover under way); 25006: it takes no writes (a standby, or a primary being demoted)
        return sqlState.startsWith("08") || sqlState.equals("57P01") || sqlState.equals("57P02")
                || sqlState.equals("57P03") || sqlState.equals("25006");
    }
}
