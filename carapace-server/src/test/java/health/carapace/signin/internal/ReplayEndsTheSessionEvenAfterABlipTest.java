package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.platform.dev.DevDatabase;
import health.carapace.signin.Users;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Base64;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Review L5: a rotated refresh token that comes back ends its session, and the row that marks it
 * as rotated is removed in the same transaction as the session's end. When ending the session
 * fails (here the database refuses the update once), the replay is refused and the row stays, so
 * the thief's next try is seen again and ends the session then.
 */
class ReplayEndsTheSessionEvenAfterABlipTest extends IntegrationTest {

    private static final String PASSWORD = "a long enough passphrase";
    private static final Pattern SID = Pattern.compile("\"sid\"\\s*:\\s*\"([0-9a-f-]{36})\"");

    @Autowired
    private Users users;

    @Test
    void aReplaySeenWhileTheSessionCannotBeEndedIsSeenAgainAtTheNextTry() throws Exception {
        String name = "replay-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of(TestPolicy.CLINICIAN), null);
        SignInBrowser browser = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        SignInBrowser.Tokens first = browser.firstSignIn(enrolment.link(), name, PASSWORD);
        SignInBrowser.Tokens rotated = SignInBrowser.tokens(browser.refresh(first.refreshToken()));
        String session = sessionOf(rotated.accessToken());

        try (Connection owner = DriverManager.getConnection(
                String.valueOf(TestInstallation.get().properties().get("carapace.db.url")), DevDatabase.OWNER, "");
                Statement sql = owner.createStatement()) {
            String function = "iam.refuse_revoke_" + session.replace("-", "");
            sql.execute("create function " + function + "() returns trigger language plpgsql as $$ begin"
                    + " raise exception 'a database blip'; end $$");
            sql.execute("create trigger refuse_revoke before update on iam.session for each row when (old.id = '"
                    + session + "') execute function " + function + "()");
            try {
                assertThat(browser.refresh(first.refreshToken()).statusCode()).as("the replay, during the blip")
                        .isEqualTo(400);
            } finally {
                sql.execute("drop trigger refuse_revoke on iam.session");
                sql.execute("drop function " + function + "()");
            }
        }
        assertThat(browser.fhirGet("/fhir/Patient?_count=1", rotated.accessToken()).statusCode())
                .as("not ended during the blip").isEqualTo(200);

        assertThat(browser.refresh(first.refreshToken()).statusCode()).as("the replay, again").isEqualTo(400);

        assertThat(browser.fhirGet("/fhir/Patient?_count=1", rotated.accessToken()).statusCode())
                .as("the session ended").isEqualTo(401);
        assertThat(browser.refresh(rotated.refreshToken()).statusCode()).isEqualTo(400);
    }

    private static String sessionOf(String accessToken) {
        String claims = new String(Base64.getUrlDecoder().decode(accessToken.split("\\.")[1]), StandardCharsets.UTF_8);
        Matcher sid = SID.matcher(claims);
        assertThat(sid.find()).as("the access token names its session").isTrue();
        return sid.group(1);
    }
}
