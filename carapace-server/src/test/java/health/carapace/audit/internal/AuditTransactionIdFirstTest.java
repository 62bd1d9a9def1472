package health.carapace.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * An audit event's transaction has its transaction id before the event draws its identity value
 * (AuditLog: "transaction id first, then insert"): the sealer's gap rule counts on an id drawn
 * before its snapshot belonging to a transaction that snapshot sees as running or ended
 * ({@link TreeSealer}). Observed, not read from the statement text: a BEFORE INSERT trigger (this
 * test's, only for this test's actor) runs after the identity value is drawn and before the row is
 * written, and refuses the row if the transaction has no id yet. Review of issue 13 item 5, L4.
 */
class AuditTransactionIdFirstTest extends IntegrationTest {

    private static final String ACTOR = "audit-xact-order-test";

    @Autowired
    private PlatformTransactionManager transactionManager;

    @BeforeEach
    void installTrigger() throws SQLException {
        try (Connection owner = owner(); Statement s = owner.createStatement()) {
            s.execute("""
                    create or replace function audit.test_xact_id_first() returns trigger language plpgsql as $$
                    begin
                        if new.actor = 'ACTOR' and pg_current_xact_id_if_assigned() is null then
                            raise exception 'identity % drawn before the transaction had an id', new.id;
                        end if;
                        return new;
                    end $$""".replace("ACTOR", ACTOR));
            s.execute("create trigger test_xact_id_first before insert on audit.event "
                    + "for each row execute function audit.test_xact_id_first()");
        }
    }

    @AfterEach
    void dropTrigger() throws SQLException {
        try (Connection owner = owner(); Statement s = owner.createStatement()) {
            s.execute("drop trigger if exists test_xact_id_first on audit.event");
            s.execute("drop function if exists audit.test_xact_id_first()");
        }
    }

    @Test
    void anEventsTransactionHasItsIdBeforeTheEventDrawsItsIdentity() {
        AuditLog log = new AuditLog(dataSource);
        TransactionTemplate transactions = new TransactionTemplate(transactionManager);
        AuditEvent one = event();
        AuditEvent two = event();
        AuditEvent three = event();
        // Each in a transaction that has written nothing before (else it would have an id already).
        transactions.executeWithoutResult(status -> log.insert(List.of(one)));
        transactions.executeWithoutResult(status -> log.insert(List.of(two, three)));
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from audit.event where event_id in (?, ?, ?)")
                .params(one.id(), two.id(), three.id()).query(Long.class).single()).isEqualTo(3);
    }

    /** The trigger does tell the orders apart: the insert first (no transaction id yet) is refused. */
    @Test
    void theInsertBeforeTheTransactionIdIsRefusedByTheTrigger() throws SQLException {
        AuditEvent event = event();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement("insert into audit.event (event_id, recorded_at, actor, "
                    + "action, outcome, patient, body) values (?, ?, ?, ?, 'success', null, ?)")) {
                insert.setObject(1, event.id());
                insert.setTimestamp(2, Timestamp.from(event.timestamp()));
                insert.setString(3, ACTOR);
                insert.setString(4, event.action().code());
                insert.setBytes(5, EventCodec.encode(event));
                assertThatThrownBy(insert::executeUpdate).isInstanceOf(SQLException.class)
                        .hasMessageContaining("drawn before the transaction had an id");
            } finally {
                c.rollback();
            }
        }
    }

    private static Connection owner() throws SQLException {
        return DriverManager.getConnection(TestInstallation.get().properties().get("carapace.db.url").toString(),
                DevDatabase.OWNER, "");
    }

    private static AuditEvent event() {
        return new AuditEvent(UUID.randomUUID(), Instant.now(), ACTOR, AuditAction.VIEWED,
                "/fhir/Patient/" + UUID.randomUUID(), AuditContext.none(), true, null, null, null, false, null);
    }
}
