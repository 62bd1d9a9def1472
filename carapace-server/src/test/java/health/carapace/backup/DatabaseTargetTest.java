package health.carapace.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

/**
 * The backup tools reach a replicated PostgreSQL through its primary only, as the pools do
 * (ops review finding 6): pgjdbc with {@code targetServerType=primary}, libpq (pg_dump, psql) with
 * {@code target_session_attrs=read-write}. Without it both take the first member that answers.
 */
class DatabaseTargetTest {

    private static final String CLUSTER = "jdbc:postgresql://db1.example:5432,db2.example:5432/carapace";

    @Test
    void aClusterUrlIsUsedThroughItsPrimaryByJdbcAndByLibpq() {
        DatabaseTarget target = new DatabaseTarget(CLUSTER + "?sslmode=verify-full", "carapace_owner", "secret");
        assertThat(target.jdbcUrl()).isEqualTo(CLUSTER + "?sslmode=verify-full&targetServerType=primary");
        assertThat(target.libpqUri()).isEqualTo(
                "postgresql://db1.example:5432,db2.example:5432/carapace?sslmode=verify-full&target_session_attrs=read-write");

        DatabaseTarget bare = DatabaseTarget.of(new MockEnvironment()
                .withProperty("carapace.db.url", CLUSTER)
                .withProperty("carapace.db.username", "carapace_app")
                .withProperty("carapace.db.owner-username", "carapace_owner"), "carapace.db");
        assertThat(bare.jdbcUrl()).isEqualTo(CLUSTER + "?targetServerType=primary");
        assertThat(bare.libpqUri()).isEqualTo("postgresql://db1.example:5432,db2.example:5432/carapace"
                + "?target_session_attrs=read-write");
        assertThat(bare.user()).isEqualTo("carapace_owner");
    }

    @Test
    void aSynonymOfPrimaryIsKeptAndAnythingElseIsRefused() {
        for (String primary : new String[] {"primary", "master"}) {
            assertThat(new DatabaseTarget(CLUSTER + "?targetServerType=" + primary, "o", "").libpqUri())
                    .as(primary).endsWith("/carapace?target_session_attrs=read-write");
        }
        // s7 review finding 11: pgjdbc looks the value up case and all, and has no read-write.
        for (String other : new String[] {"any", "secondary", "preferSecondary", "preferPrimary", "read-write",
            "PRIMARY", "Primary"}) {
            assertThatThrownBy(() -> new DatabaseTarget(CLUSTER + "?targetServerType=" + other, "o", ""))
                    .as(other).isInstanceOf(BackupRefused.class)
                    .hasMessageContaining("targetServerType must be primary");
        }
    }

    /**
     * s7 review finding 11: pgjdbc's parameter names are case-sensitive. A lower-case key is ignored by
     * the driver (which then takes any member, a standby included) while libpq would have gone to the
     * primary: the hold and the load would reach different servers. Refused, and never given a default.
     */
    @Test
    void anotherSpellingOfTargetServerTypeIsRefusedForACluster() {
        for (String spelling : new String[] {"targetservertype", "TargetServerType", "TARGETSERVERTYPE"}) {
            assertThatThrownBy(() -> new DatabaseTarget(CLUSTER + "?" + spelling + "=primary", "o", ""))
                    .as(spelling).isInstanceOf(BackupRefused.class).hasMessageContaining("spell its parameter targetServerType");
            assertThat(health.carapace.platform.config.DatabaseFailover.problem("carapace.db.url",
                    CLUSTER + "?sslmode=require&" + spelling + "=primary")).as(spelling).isPresent();
        }
    }

    @Test
    void oneHostIsLeftAsItIs() {
        DatabaseTarget single = new DatabaseTarget("jdbc:postgresql://db1.example:5432/carapace?sslmode=verify-full",
                "o", "");
        assertThat(single.jdbcUrl()).isEqualTo("jdbc:postgresql://db1.example:5432/carapace?sslmode=verify-full");
        assertThat(single.libpqUri()).isEqualTo("postgresql://db1.example:5432/carapace?sslmode=verify-full");
        assertThat(single.toString()).doesNotContain("secret");
    }
}
