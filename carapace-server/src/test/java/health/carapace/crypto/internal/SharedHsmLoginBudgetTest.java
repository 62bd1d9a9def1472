package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SoftHsm;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TokenInspector;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * ADR 0049 (review finding M4): the budget of HSM logins refused for the PIN belongs to the
 * installation, not to a process. Two nodes (two sessions, each with its own SunPKCS11 provider and its
 * own view of the budget, sharing only the keyring database) whose PIN the real SoftHSM2 token refuses
 * send it 3 logins between them, not 3 each; a restarted node (a new session, as every CLI command
 * opens) sends none; the operator's {@code ./carapace keys reset-hsm-logins} gives the budget back; and
 * without the keyring no login is sent at all.
 *
 * <p>The token is made to refuse as in {@link HsmSessionRecoveryTest}: sessions configured with a PIN
 * it does not hold open while the test holds a login, then the token logs everybody out.
 */
@ExtendWith(SoftHsm.Required.class)
class SharedHsmLoginBudgetTest extends IntegrationTest {

    private static final String WRONG_PIN = "not-the-tokens-pin-" + UUID.randomUUID();
    private static final byte[] AAD = "budget-test".getBytes(StandardCharsets.UTF_8);
    /** Referenced to the end: a collected provider would have the JDK close session numbers others reuse. */
    private static final List<HsmSession> KEPT = new ArrayList<>();

    @Autowired
    private KeyringStore store;

    private final SoftHsm hsm = SoftHsm.get();
    private final SoftHsm.Token token = hsm.token(SoftHsm.RECOVERY_TOKEN);
    private final TokenInspector inspector = TokenInspector.of(hsm.library());
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger sessionLog = (Logger) LoggerFactory.getLogger(HsmSession.class);
    private final String label = "budget-" + UUID.randomUUID().toString().substring(0, 8);

    @BeforeEach
    void aFreshBudgetALoggedOutTokenAndTheSessionsLog() throws Exception {
        inspector.takeAway(token.slotListIndex(), hsm.securityOfficerPin()).close();
        keyring().sql("update keyring.hsm_login set refused = 0, last_code = null, last_attempt_at = null").update();
        logs.start();
        sessionLog.addAppender(logs);
    }

    @AfterEach
    void leaveTheTokenLoggedOutAndTheBudgetFresh() throws Exception {
        sessionLog.detachAppender(logs);
        inspector.takeAway(token.slotListIndex(), hsm.securityOfficerPin()).close();
        keyring().sql("update keyring.hsm_login set refused = 0, last_code = null, last_attempt_at = null").update();
    }

    @Test
    void twoNodesShareOneBudgetOfRefusedLoginsARestartSendsNoneAndTheOperatorsResetGivesItBack() throws Exception {
        HsmSession.Recovery recovery = new HsmSession.Recovery(Duration.ofSeconds(2), Duration.ofSeconds(1), 3);
        HsmSession first = openWithAPinTheTokenWillRefuse(recovery);
        HsmSession second = openWithAPinTheTokenWillRefuse(recovery);
        HsmSession.Kek kek = first.create(label);
        kek.encrypt(new byte[32], AAD);
        assertThat(second.find(label)).isNotNull();
        assertThat(counted()).as("a login the token took resets the count").isZero();

        inspector.takeAway(token.slotListIndex(), hsm.securityOfficerPin()).close();

        // Both nodes probe every 20 ms for 9 s. Alone each would send 3 refused logins (0, 1, 3 s): 6 in all.
        await().during(Duration.ofSeconds(9)).atMost(Duration.ofSeconds(12)).pollInterval(Duration.ofMillis(20))
                .until(() -> !first.reachable() & !second.reachable());
        assertThat(first.loginAttempts() + second.loginAttempts()).as("refused logins the two nodes sent together")
                .isEqualTo(3);
        // s9 review M-1: a provider (new sessions) is built only for a login sent, none while the budget says
        // WAIT or, for the last ~6 s (three checks of each node at the 2 s cadence), EXHAUSTED.
        assertThat(first.providersBuilt()).as("providers the first node built").isEqualTo(first.loginAttempts());
        assertThat(second.providersBuilt()).as("providers the second node built").isEqualTo(second.loginAttempts());
        assertThat(counted()).isEqualTo(3);
        assertThat(keyring().sql("select last_code from keyring.hsm_login").query(String.class).single())
                .isEqualTo("CKR_PIN_INCORRECT");

        // A restart (or a CLI command): a new process's first login is refused by the budget, not sent.
        assertThatThrownBy(() -> HsmSession.open(hsm.library(), token.slotListIndex(), WRONG_PIN.toCharArray(), label,
                recovery, new HsmLoginBudget(store.pool(), recovery)))
                .isInstanceOf(KeyUnavailableException.class)
                .hasMessageContaining("No HSM login was tried").hasMessageContaining("keys reset-hsm-logins");
        assertThat(counted()).isEqualTo(3);
        List<String> errors = logs.list.stream().filter(e -> e.getLevel() == Level.ERROR)
                .map(ILoggingEvent::getFormattedMessage).toList();
        // one line per refusal (the other node may add one saying it sends none), never a PIN
        assertThat(errors.stream().filter(line -> line.contains("refused the login (CKR_PIN_INCORRECT)"))).hasSize(3);
        assertThat(errors).allSatisfy(line -> assertThat(line).doesNotContain(WRONG_PIN).doesNotContain(token.pin()))
                .anySatisfy(line -> assertThat(line).contains("keys reset-hsm-logins"));

        // The operator fixed the PIN and resets the budget: a node with the right PIN logs in again.
        StringWriter out = new StringWriter();
        picocli.CommandLine cli = health.carapace.CarapaceCli.commandLine();
        cli.setOut(new PrintWriter(out));
        int exit = cli.execute("keys", "reset-hsm-logins", "--data-dir", TestInstallation.dataDir().toString());
        assertThat(exit).as(out.toString()).isZero();
        assertThat(out.toString()).contains("before: 3 refused, last CKR_PIN_INCORRECT");
        assertThat(counted()).isZero();
        HsmSession fixed = keep(HsmSession.open(hsm.library(), token.slotListIndex(), token.pinChars(), label, recovery,
                new HsmLoginBudget(store.pool(), recovery)));
        assertThat(fixed.find(label)).isNotNull();
        assertThat(counted()).isZero();
        assertThat(keyring().sql("select reset_by from keyring.hsm_login").query(String.class).single()).startsWith("cli:");
    }

    @Test
    void aStartWaitsForAnotherNodesLoginUnderWayInsteadOfFailing() throws Exception {
        HsmSession.Recovery recovery = new HsmSession.Recovery(Duration.ofMinutes(15), Duration.ofSeconds(1), 3);
        // another node has reserved a login and not yet settled it (as HsmLoginBudget.reserve leaves it)
        keyring().sql("update keyring.hsm_login set refused = 1, last_attempt_at = clock_timestamp() where token = 'kek'")
                .update();
        Thread otherNode = new Thread(() -> {
            try {
                Thread.sleep(1_500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // its login succeeded: the count goes back to 0
            keyring().sql("update keyring.hsm_login set refused = 0 where token = 'kek'").update();
        });
        otherNode.start();
        long started = System.nanoTime();
        HsmSession session = keep(HsmSession.open(hsm.library(), token.slotListIndex(), token.pinChars(), label, recovery,
                new HsmLoginBudget(store.pool(), recovery)));
        otherNode.join();
        session.create(label).encrypt(new byte[32], AAD); // started, logged in, usable
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(1_000))
                .isLessThan(HsmSession.START_WAIT);
        assertThat(counted()).as("its own login reset the count").isZero();
    }

    @Test
    void withoutTheKeyringNoLoginIsSent() {
        HsmSession.Recovery recovery = HsmSession.Recovery.DEFAULT;
        // a keyring nobody answers at (port 1): the budget cannot be read
        DriverManagerDataSource away = new DriverManagerDataSource("jdbc:postgresql://127.0.0.1:1/keyring?connectTimeout=2",
                "nobody", "");
        assertThatThrownBy(() -> HsmSession.open(hsm.library(), token.slotListIndex(), token.pinChars(), label, recovery,
                new HsmLoginBudget(away, recovery)))
                .isInstanceOf(KeyUnavailableException.class).hasMessageContaining("No HSM login was tried")
                .hasMessageContaining("keyring");
        assertThat(inspector.isLoggedIn(token.slotListIndex())).as("the token saw no login").isFalse();
    }

    private HsmSession openWithAPinTheTokenWillRefuse(HsmSession.Recovery recovery) throws Exception {
        try (AutoCloseable loggedIn = inspector.logInAsUser(token.slotListIndex(), token.pin())) {
            return keep(HsmSession.open(hsm.library(), token.slotListIndex(), WRONG_PIN.toCharArray(), label, recovery,
                    new HsmLoginBudget(store.pool(), recovery)));
        }
    }

    private int counted() {
        return keyring().sql("select refused from keyring.hsm_login where token = 'kek'").query(Integer.class).single();
    }

    private JdbcClient keyring() {
        return JdbcClient.create(store.pool());
    }

    private static synchronized HsmSession keep(HsmSession session) {
        KEPT.add(session);
        return session;
    }
}
