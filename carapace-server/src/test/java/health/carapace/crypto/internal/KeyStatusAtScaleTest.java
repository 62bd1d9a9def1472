package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.crypto.RecordCipher;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Key status and the key metrics refreshed every ten seconds cost the same at a million patients
 * as at a thousand (issue 13 item 6): the state keysets are listed from an index that holds no
 * data keys, and the metrics count every patient's keys only every {@link KeyMetrics#COUNT_MAX_AGE},
 * while an explicit status counts afresh.
 */
class KeyStatusAtScaleTest extends IntegrationTest {

    @Autowired
    private KeyJobs jobs;

    @Autowired
    private RecordCipher cipher;

    @Autowired
    private KeyringStore store;

    /**
     * With 20,000 data keysets in the table (inserted and analysed in a transaction that is rolled
     * back), the listing reads the partial index; the same listing without its {@code not
     * starts_with(key_ref, 'dek/')} clause, as it was, scans the table.
     */
    @Test
    void stateKeysetsAreListedFromAnIndexWithoutTheDataKeys() throws Exception {
        try (Connection owner = DriverManager.getConnection(
                TestInstallation.get().properties().get("carapace.keyring.url").toString(), DevDatabase.OWNER, "")) {
            owner.setAutoCommit(false);
            try (Statement s = owner.createStatement()) {
                s.execute("insert into keyring.wrapped_key (key_ref, kek_id, wrapped) select 'dek/Patient/' || gen_random_uuid(),"
                        + " 'plan-test', '\\x00'::bytea from generate_series(1, 20000)");
                s.execute("analyze keyring.wrapped_key");
                assertThat(plan(owner, KeyringStore.KEY_REFS_BY_PREFIX)).contains("wrapped_key_not_data_keys");
                assertThat(plan(owner, "select key_ref from keyring.wrapped_key where starts_with(key_ref, ?) order by key_ref"))
                        .as("the listing as it was").doesNotContain("wrapped_key_not_data_keys").contains("Seq Scan");
            } finally {
                owner.rollback();
                // ANALYZE's row counts in pg_class are not rolled back: counted again for the tests after this one
                owner.setAutoCommit(true);
                try (Statement s = owner.createStatement()) {
                    s.execute("analyze keyring.wrapped_key");
                }
            }
        }
        assertThat(store.keyRefsStartingWith(StateKeysets.PREFIX)).allSatisfy(ref -> assertThat(ref).startsWith("state/"));
        assertThatThrownBy(() -> store.keyRefsStartingWith("dek/Patient/")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theMetricsCountDataKeysAtMostEveryFewMinutesAndStatusCountsAfresh() {
        long before = keysets(jobs.status());
        List<String> compartments = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String compartment = "Patient/" + UUID.randomUUID();
            cipher.encrypt(compartment, "x".getBytes(StandardCharsets.UTF_8), compartment.getBytes(StandardCharsets.UTF_8));
            compartments.add(compartment);
        }
        assertThat(keysets(jobs.statusWithRecentCounts(KeyMetrics.COUNT_MAX_AGE))).as("counts of the last status")
                .isEqualTo(before);
        assertThat(jobs.lastCounts().keysets()).isEqualTo(before);

        long after = keysets(jobs.status());
        assertThat(after).as("an explicit status counts afresh").isGreaterThanOrEqualTo(before + compartments.size());
        assertThat(jobs.lastCounts().keysets()).as("and renews the metrics' counts").isEqualTo(after);
        assertThat(keysets(jobs.statusWithRecentCounts(Duration.ZERO))).as("counts older than the bound are renewed")
                .isGreaterThanOrEqualTo(after);
    }

    private static long keysets(health.carapace.crypto.KeyRotation.Status status) {
        String summary = status.keys().stream().filter(k -> k.kind().equals("dek-summary")).findFirst().orElseThrow().id();
        return Long.parseLong(summary.substring(0, summary.indexOf(' ')));
    }

    private static String plan(Connection connection, String sql) throws Exception {
        try (PreparedStatement explain = connection.prepareStatement("explain " + sql)) {
            explain.setString(1, StateKeysets.PREFIX);
            StringBuilder plan = new StringBuilder();
            try (ResultSet rs = explain.executeQuery()) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
            return plan.toString();
        }
    }
}
