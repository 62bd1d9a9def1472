package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.incident.Containment;
import health.carapace.incident.Severity;
import health.carapace.signin.Users;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestPolicy;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Review M3: revoking a user's sessions and disabling them from an incident are audited as done by
 * the officer who contained it, not by the operating-system account running the server.
 */
class ContainmentActorAuditTest extends IntegrationTest {

    @Autowired
    IncidentStore store;

    @Autowired
    Containment containment;

    @Autowired
    Users users;

    @Autowired
    PlatformTransactionManager transactionManager;

    private long audited(String actor, String action, String userName) {
        return JdbcClient.create(dataSource).sql("select count(*) from audit.event where actor = ? and action = ?"
                        + " and convert_from(body, 'UTF8') like ?")
                .params(actor, action, "%/admin/users/" + userName + "%").query(Long.class).single();
    }

    @Test
    void revokingAndDisablingAreAuditedAsTheOfficer() {
        String name = "contained-user-" + UUID.randomUUID().toString().substring(0, 8);
        users.create(name, Set.of(TestPolicy.CLINICIAN), null);
        List<IncidentStore.Opened> opened = new TransactionTemplate(transactionManager).execute(status -> store.record(
                List.of(new Detection("self-access", Severity.MEDIUM, name, null, null, UUID.randomUUID(), 0,
                        Instant.now(), "test"))));
        UUID incident = opened.get(0).id();
        String officer = "privacy-officer-" + UUID.randomUUID().toString().substring(0, 8);

        containment.contain(incident, new Containment.Actions(true, false, null, null, null, null), officer);
        containment.contain(incident, new Containment.Actions(false, true, null, null, null, null), officer);

        assertThat(audited(officer, "session_revoked", name)).isEqualTo(1);
        assertThat(audited(officer, "user_disabled", name)).isEqualTo(1);
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from audit.event where actor like 'cli:%'"
                        + " and action in ('session_revoked', 'user_disabled') and convert_from(body, 'UTF8') like ?")
                .param("%/admin/users/" + name + "%").query(Long.class).single()).isZero();
    }
}
