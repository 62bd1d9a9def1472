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
    }
}
