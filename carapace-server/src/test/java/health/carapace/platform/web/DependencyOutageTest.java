package health.carapace.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** Which database failures are an outage (503, retry later) rather than a fault (500). */
class DependencyOutageTest {

    @Test
    void aFailoverUnderWayIsAnOutage() {
        // connection lost or refused; a server shutting down, crashed, not yet accepting; a standby refusing a write
        for (String state : new String[] {"08006", "08001", "57P01", "57P02", "57P03", "25006"}) {
            assertThat(DependencyOutage.causedBy(new IllegalStateException(new SQLException("x", state)))).as(state).isTrue();
        }
        // a commit cut off by the loss of the primary, whose rollback then met the pool's closed connection
        assertThat(DependencyOutage.causedBy(new IllegalStateException(new org.springframework.transaction.TransactionSystemException(
                "rollback", new SQLException("Connection is closed"))))).isTrue();
    }

    @Test
    void aFaultOfTheRequestOrTheServerIsNot() {
        for (String state : new String[] {"23505", "42P01", "57014", "25P02", "40001"}) {
            assertThat(DependencyOutage.causedBy(new SQLException("x", state))).as(state).isFalse();
        }
        assertThat(DependencyOutage.causedBy(new IllegalStateException("no state"))).isFalse();
        // a rollback that failed after the work failed for its own reason is that reason's failure
        org.springframework.transaction.TransactionSystemException afterAFault =
                new org.springframework.transaction.TransactionSystemException("rollback failed");
        afterAFault.initApplicationException(new IllegalStateException("an integrity alarm"));
        assertThat(DependencyOutage.causedBy(afterAFault)).isFalse();
        // and after an outage, or with no work failure at all (a commit cut off), it is the outage
        org.springframework.transaction.TransactionSystemException afterAnOutage =
                new org.springframework.transaction.TransactionSystemException("rollback failed");
        afterAnOutage.initApplicationException(new SQLException("x", "08006"));
        assertThat(DependencyOutage.causedBy(afterAnOutage)).isTrue();
        assertThat(DependencyOutage.causedBy(new org.springframework.transaction.TransactionSystemException("commit cut off")))
                .isTrue();
    }
}
