package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.incident.Containment;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Incidents;
import health.carapace.incident.Severity;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.mock.env.MockEnvironment;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Suspending a role (every holder loses it at the next request until lifted; audited as the
 * officer; stamps the incident) and automatic containment per detector (off by default; never the
 * victim of a credential attack), through the real containment on the shared installation.
 */
class SuspendRoleAndAutoContainmentTest extends IntegrationTest {

    @Autowired
    IncidentStore store;

    @Autowired
    Containment containment;

    @Autowired
    PlatformTransactionManager transactionManager;

    private UUID incidentOf(String principal, String address) {
        return opened(principal, address).id();
    }

    private IncidentStore.Opened opened(String principal, String address) {
        return new TransactionTemplate(transactionManager).execute(status -> store.record(List.of(new Detection(
                principal == null ? "credential-attack" : "self-access", Severity.MEDIUM, principal, address, null,
                UUID.randomUUID(), 0, Instant.now(), "test")))).get(0);
    }

    private int createPatient(String token) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient")).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"active\":true}"))).statusCode();
    }

    @Test
    void aSuspendedRoleIsLostByEveryHolderAtTheNextRequestUntilLiftedAndIsAuditedAsTheOfficer() {
        ServiceClients.Credentials writer = client("suspend-writer", TestPolicy.EDIT_ONLY);
        ServiceClients.Credentials other = client("suspend-other", TestPolicy.EDIT_ONLY);
        String writerToken = tokenFor(writer.clientId(), writer.clientSecret());
        String otherToken = tokenFor(other.clientId(), other.clientSecret());
        assertThat(createPatient(writerToken)).isEqualTo(201);
        UUID incident = incidentOf(writer.clientId(), null);
        String officer = "officer-" + UUID.randomUUID().toString().substring(0, 8);

        Containment.Result result = containment.contain(incident, new Containment.Actions(false, false, null, null,
                null, null, List.of(TestPolicy.EDIT_ONLY), null), officer);
        try {
            assertThat(result.done()).containsExactly("suspended-role:" + TestPolicy.EDIT_ONLY);
            assertThat(result.incident().state()).isEqualTo(IncidentState.CONTAINED);
            assertThat(result.detectionToContainment()).isNotNull();
            assertThat(createPatient(writerToken)).as("the incident's principal").isEqualTo(403);
            assertThat(createPatient(otherToken)).as("every other holder").isEqualTo(403);
            assertThat(JdbcClient.create(dataSource).sql("select count(*) from audit.event where actor = ?"
                    + " and action = 'admin_change' and convert_from(body, 'UTF8') like ?")
                    .params(officer, "%/containment/suspended-roles/" + TestPolicy.EDIT_ONLY + "%")
                    .query(Long.class).single()).isEqualTo(1);
        } finally {
            containment.contain(incident, new Containment.Actions(false, false, null, null, null, null, null,
                    List.of(TestPolicy.EDIT_ONLY)), officer);
        }
        assertThat(createPatient(writerToken)).as("lifted").isEqualTo(201);
        assertThat(store.find(incident).orElseThrow().timeline())
                .anySatisfy(e -> assertThat(e.detail()).isEqualTo("lifted-role:" + TestPolicy.EDIT_ONLY));
    }

    @Test
    void aRoleThatIsNotDefinedIsRefusedBeforeAnythingIsDone() {
        ServiceClients.Credentials writer = client("suspend-refused", TestPolicy.EDIT_ONLY);
        UUID incident = incidentOf(writer.clientId(), null);
        assertThatThrownBy(() -> containment.contain(incident, new Containment.Actions(false, true, null, null, null,
                null, List.of("no-such-role"), null), "officer")).isInstanceOf(Incidents.Refused.class);
        assertThat(createPatient(tokenFor(writer.clientId(), writer.clientSecret()))).as("not disabled").isEqualTo(201);
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from incident.suspended_role where role = 'no-such-role'")
                .query(Long.class).single()).isZero();
    }

    @Test
    void automaticContainmentDisablesAsConfiguredAndBlocksOnlyTheAttackersAddress() {
        ServiceClients.Credentials snooper = client("auto-contained", TestPolicy.EDIT_ONLY);
        String token = tokenFor(snooper.clientId(), snooper.clientSecret());
        AutoContainment auto = new AutoContainment(Map.of("self-access", Set.of(AutoContainment.Action.DISABLE),
                "credential-attack", Set.of(AutoContainment.Action.BLOCK_ADDRESS)), containment);
        IncidentStore.Opened bySnooper = opened(snooper.clientId(), "127.0.0.1");
        String attacker = "198.51.100." + (1 + new java.security.SecureRandom().nextInt(254));
        IncidentStore.Opened byAddress = opened(null, attacker);
        auto.opened(List.of(bySnooper, byAddress));
        try {
            assertThat(createPatient(token)).as("disabled at once").isEqualTo(401);
            assertThat(store.find(bySnooper.id()).orElseThrow().state()).isEqualTo(IncidentState.CONTAINED);
            assertThat(store.find(bySnooper.id()).orElseThrow().timeline())
                    .anySatisfy(e -> assertThat(e.actor()).isEqualTo(AuditedAccess.SELF));
            assertThat(JdbcClient.create(dataSource).sql("select count(*) from incident.blocked_range"
                    + " where range = ?::cidr and lifted_at is null").param(attacker + "/32").query(Long.class).single())
                    .isEqualTo(1);
            assertThat(JdbcClient.create(dataSource).sql("select count(*) from incident.blocked_range"
                    + " where range = '127.0.0.1/32'::cidr and lifted_at is null").query(Long.class).single())
                    .as("the snooper's address is not blocked: not configured for self-access").isZero();
        } finally {
            containment.contain(byAddress.id(), new Containment.Actions(false, false, null, List.of(attacker),
                    null, null), "officer");
        }
        // both changes are on the sealed trail with what they were and who made them (review M3)
        assertThat(audited(AuditedAccess.SELF, "/containment/blocked-ranges/" + attacker + "/32")).isEqualTo(1);
        assertThat(audited("officer", "/containment/unblocked-ranges/" + attacker + "/32")).isEqualTo(1);
    }

    private long audited(String actor, String what) {
        return JdbcClient.create(dataSource).sql("select count(*) from audit.event where actor = ?"
                + " and action = 'admin_change' and convert_from(body, 'UTF8') like ?")
                .params(actor, "%" + what + "%").query(Long.class).single();
    }

    @Test
    void automaticContainmentIsOffByDefaultAndRefusesWhatMustNeverBeAutomatic() {
        List<String> problems = new ArrayList<>();
        assertThat(AutoContainment.parse(new MockEnvironment(), "carapace.incident.auto-contain.", problems)).isEmpty();
        assertThat(problems).isEmpty();
        MockEnvironment bad = new MockEnvironment()
                .withProperty("carapace.incident.auto-contain.credential-attack", "block-address,disable")
                .withProperty("carapace.incident.auto-contain.audit-integrity", "block-address")
                .withProperty("carapace.incident.auto-contain.volume", "shred-everything");
        assertThat(AutoContainment.parse(bad, "carapace.incident.auto-contain.", problems)).isEmpty();
        assertThat(problems).hasSize(3).allSatisfy(p -> assertThat(p).doesNotContain("shred-everything"));
        problems.clear();
        MockEnvironment good = new MockEnvironment()
                .withProperty("carapace.incident.auto-contain.credential-attack", "block-address")
                .withProperty("carapace.incident.auto-contain.vip-access", "disable, revoke-sessions");
        assertThat(AutoContainment.parse(good, "carapace.incident.auto-contain.", problems))
                .containsEntry("credential-attack", Set.of(AutoContainment.Action.BLOCK_ADDRESS))
                .containsEntry("vip-access", Set.of(AutoContainment.Action.DISABLE, AutoContainment.Action.REVOKE_SESSIONS));
        assertThat(problems).isEmpty();
    }
}
