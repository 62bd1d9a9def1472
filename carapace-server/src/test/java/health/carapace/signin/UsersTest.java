package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import java.net.URI;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Accounts as administrators create them: no password, a link stored only as a hash, unique names. */
class UsersTest extends IntegrationTest {

    @Autowired
    private Users users;

    @Autowired
    private LoginApps apps;

    @Autowired
    private DataSource dataSource;

    @Test
    void aNewAccountHasNoPasswordAndItsLinkIsStoredOnlyAsAHash() {
        String name = "Admin-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of("admin"), null);
        String token = SignInBrowser.query(URI.create(enrolment.link())).get("token");

        assertThat(token).hasSizeGreaterThanOrEqualTo(43); // 256 bits, base64url
        JdbcClient jdbc = JdbcClient.create(dataSource);
        assertThat(jdbc.sql("select count(*) from iam.app_user where user_name = ? and password_hash is null and totp_sealed is null")
                .param(name).query(Long.class).single()).isEqualTo(1);
        assertThat(jdbc.sql("select count(*) from iam.enrolment where encode(token_hash, 'escape') like ?")
                .param("%" + token + "%").query(Long.class).single()).isZero();
        assertThat(users.list()).filteredOn(u -> u.userName().equals(name)).singleElement()
                .satisfies(u -> assertThat(u.passwordSet()).isFalse());
    }

    @Test
    void namesAreUniqueRegardlessOfCaseAndRolesMustBeWellFormedAndDefined() {
        String name = "dr-" + UUID.randomUUID().toString().substring(0, 8);
        users.create(name, Set.of("clinician"), "prac-1");

        assertThatThrownBy(() -> users.create(name.toUpperCase(), Set.of("clinician"), null))
                .isInstanceOf(Users.Refused.class).hasMessageContaining("already exists");
        assertThatThrownBy(() -> users.create("x-" + UUID.randomUUID(), Set.of("Admin Role"), null))
                .isInstanceOf(Users.Refused.class);
        assertThatThrownBy(() -> users.create("x-" + UUID.randomUUID(), Set.of(), null)).isInstanceOf(Users.Refused.class);
        assertThatThrownBy(() -> users.create("svc-" + UUID.randomUUID(), Set.of("clinician"), null))
                .isInstanceOf(Users.Refused.class);
        assertThatThrownBy(() -> users.create("Drill-" + UUID.randomUUID().toString().substring(0, 8), Set.of("clinician"),
                null)).as("drill- is reserved for drill principals").isInstanceOf(Users.Refused.class);
        assertThatThrownBy(() -> users.create("<script>", Set.of("clinician"), null)).isInstanceOf(Users.Refused.class);
        // Well-formed but not in the policy directory: refused, naming the defined roles.
        assertThatThrownBy(() -> users.create("x-" + UUID.randomUUID(), Set.of("no-such-role"), null))
                .isInstanceOf(Users.Refused.class).hasMessageContaining("policy directory").hasMessageContaining("clinician");
    }

    @Test
    void appsMayRedirectOnlyToHttpsOrALoopbackAddress() {
        assertThat(apps.create("console", List.of("https://console.example.org/callback"))).startsWith("app-");
        assertThat(apps.create("native", List.of("http://127.0.0.1/callback"))).startsWith("app-");
        for (String bad : List.of("http://console.example.org/callback", "http://localhost/callback",
                "https://console.example.org/callback#x", "https://*.example.org/cb", "javascript:alert(1)", "/relative")) {
            assertThatThrownBy(() -> apps.create("bad", List.of(bad))).as(bad).isInstanceOf(Users.Refused.class);
        }
    }
}
