package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.testing.SoftHsm;
import health.carapace.testing.TokenInspector;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.crypto.AEADBadTagException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * Review findings M1, M2 and L8 (ADR 0045), against a real token (SoftHSM2 through SunPKCS11): how often a
 * node whose HSM session was lost tries to log in again, counted. A login the token refuses because of the
 * PIN is tried a bounded number of times, at a long back-off, and never logged with the PIN; a token that is
 * merely away is tried at an exponential back-off, however often readiness probes, and is used again within
 * the back-off's cap once it returns.
 *
 * <p>How the token comes to refuse the node's PIN: PKCS#11 login state belongs to the whole process, and
 * SunPKCS11 skips {@code C_Login} on a token the process is already logged in to. So a session configured
 * with a PIN the token does not hold opens while the test holds a login ({@link TokenInspector#logInAsUser});
 * then the token is taken away (everything logged out and closed, as an HSM restart does), and from then on
 * every login the node sends carries that PIN to the token, which answers {@code CKR_PIN_INCORRECT} — the
 * token's view of a PIN changed by its administrator.
 */
@ExtendWith(SoftHsm.Required.class)
class HsmSessionRecoveryTest {

    private static final String WRONG_PIN = "not-the-tokens-pin-" + UUID.randomUUID();
    private static final byte[] AAD = "recovery-test".getBytes(StandardCharsets.UTF_8);
    /**
     * Every session opened here stays referenced: a dead provider collected by the GC has the JDK close its
     * sessions by number, which SoftHSM2 may since have given to a later test's session.
     */
    private static final List<HsmSession> KEPT = new ArrayList<>();

    private final SoftHsm hsm = SoftHsm.get();
    private final SoftHsm.Token token = hsm.token(SoftHsm.RECOVERY_TOKEN);
    private final TokenInspector inspector = TokenInspector.of(hsm.library());
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger sessionLog = (Logger) LoggerFactory.getLogger(HsmSession.class);

    @BeforeEach
    void captureTheSessionsLog() {
        logs.start();
        sessionLog.addAppender(logs);
    }

    @AfterEach
    void release() {
        sessionLog.detachAppender(logs);
    }

    @Test
    void aRefusedPinIsTriedABoundedNumberOfTimesAtALongBackOffWhateverProbesAndTrafficAsk() throws Exception {
        HsmSession.Recovery recovery = new HsmSession.Recovery(Duration.ofSeconds(2), Duration.ofSeconds(1), 3);
        HsmSession session = openWithAPinTheTokenWillRefuse(recovery);
        HsmSession.Kek kek = session.create(label());
        kek.encrypt(new byte[32], AAD);

        inspector.takeAway(token.slotListIndex(), hsm.securityOfficerPin()).close();

        // Readiness probes every 20 ms and a request each time, for 9 s: refused logins at about 0, 1 and
        // 3 s, then none (without the cap a fourth would come at 7 s; without the fix, one a second).
        await().during(Duration.ofSeconds(9)).atMost(Duration.ofSeconds(12)).pollInterval(Duration.ofMillis(20))
                .until(() -> !session.reachable() && refused(kek));
        assertThat(session.loginAttempts()).as("logins sent to a token that refuses the PIN").isEqualTo(3);

        List<String> errors = logs.list.stream().filter(e -> e.getLevel() == Level.ERROR)
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(errors).hasSize(3).allSatisfy(line -> assertThat(line).contains("CKR_PIN_INCORRECT")
                .contains("carapace.kek.pkcs11.pin").doesNotContain(WRONG_PIN).doesNotContain(token.pin()));
        assertThat(errors.get(2)).contains("keys reset-hsm-logins");
        assertThat(logs.list).noneSatisfy(e -> assertThat(e.getFormattedMessage()).contains(WRONG_PIN));
    }

    @Test
    void aTokenThatTakesTheLoginAgainIsUsedAtTheFirstAttemptAfterTheBackOffWithoutARestart() throws Exception {
        HsmSession.Recovery recovery = new HsmSession.Recovery(Duration.ofSeconds(2), Duration.ofSeconds(3), 3);
        HsmSession session = openWithAPinTheTokenWillRefuse(recovery);
        HsmSession.Kek kek = session.create(label());
        byte[] sealed = kek.encrypt("still here".getBytes(StandardCharsets.UTF_8), AAD);

        inspector.takeAway(token.slotListIndex(), hsm.securityOfficerPin()).close();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> !session.reachable() && session.loginAttempts() == 1);
        long refusedAt = System.nanoTime();

        // The token takes this process's login again (here: a login held by the test, which SunPKCS11 sees
        // as the token's state); the node notices at its next attempt, not before, and with no restart.
        try (AutoCloseable accepted = inspector.logInAsUser(token.slotListIndex(), token.pin())) {
            await().atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(20)).until(session::reachable);
            assertThat(Duration.ofNanos(System.nanoTime() - refusedAt)).as("waited out the back-off")
                    .isGreaterThanOrEqualTo(recovery.refusedLoginRetry().minusMillis(100));
            assertThat(session.loginAttempts()).isEqualTo(2);
            assertThat(new String(kek.decrypt(sealed, AAD), StandardCharsets.UTF_8)).isEqualTo("still here");
        }
    }

    @Test
    void whileTheTokenIsAwayProbesTryNoMoreOftenThanTheBackOffAndItIsUsedAgainWithinItsCap() throws Exception {
        HsmSession.Recovery recovery = new HsmSession.Recovery(Duration.ofSeconds(4), Duration.ofMinutes(15), 3);
        HsmSession session = keep(HsmSession.open(hsm.library(), token.slotListIndex(), token.pinChars(), label(),
                recovery, new PerProcessLoginBudget(recovery)));
        HsmSession.Kek kek = session.create(label());
        byte[] sealed = kek.encrypt("back again".getBytes(StandardCharsets.UTF_8), AAD);

        long back;
        try (AutoCloseable away = inspector.takeAway(token.slotListIndex(), hsm.securityOfficerPin())) {
            // the officer's login makes the token refuse the user's: CKR_USER_ANOTHER_ALREADY_LOGGED_IN
            await().during(Duration.ofSeconds(9)).atMost(Duration.ofSeconds(12)).pollInterval(Duration.ofMillis(20))
                    .until(() -> !session.reachable() && refused(kek));
            // 1 s doubling to 4 s (jittered down by at most a quarter): about 0, 1, 3, 7 s
            assertThat(session.loginAttempts()).as("logins while the token is away for 9 s").isBetween(3L, 5L);
            back = System.nanoTime();
        }
        await().atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(20)).until(session::reachable);
        Duration recoveredAfter = Duration.ofNanos(System.nanoTime() - back);
        assertThat(recoveredAfter).as("used again within the back-off's cap").isLessThanOrEqualTo(
                recovery.maxInterval().plusSeconds(1));
        assertThat(new String(kek.decrypt(sealed, AAD), StandardCharsets.UTF_8)).isEqualTo("back again");
        assertThat(logs.list).noneSatisfy(e -> assertThat(e.getLevel()).isEqualTo(Level.ERROR));
    }

    @Test
    void aGeneralErrorLosesTheSessionUnlessTheTokenStillOpensWhatItSealed() throws Exception {
        HsmSession session = keep(HsmSession.open(hsm.library(), token.slotListIndex(), token.pinChars(), label(),
                HsmSession.Recovery.DEFAULT, new PerProcessLoginBudget(HsmSession.Recovery.DEFAULT)));
        String label = label();
        HsmSession.Kek kek = session.create(label);
        byte[] sealed = kek.encrypt(new byte[32], AAD);

        // The token's verdict on a tampered ciphertext. SoftHSM2 says CKR_GENERAL_ERROR, as a broken token
        // would: the session asks the token its known-answer question, gets the answer, and stays.
        sealed[sealed.length - 1] ^= 1;
        assertThatThrownBy(() -> kek.decrypt(sealed, AAD)).isInstanceOf(AEADBadTagException.class)
                .cause().hasMessageStartingWith("CKR_GENERAL_ERROR");
        assertThatThrownBy(() -> session.use(label, key -> {
            throw badTag(Pkcs11FailureTest.pkcs11(0x40)); // CKR_ENCRYPTED_DATA_INVALID: an answer
        })).isInstanceOf(AEADBadTagException.class);
        assertThat(session.reachable()).isTrue();
        assertThat(session.loginAttempts()).isZero();

        // CKR_GENERAL_ERROR outside a bad tag is the token's failure: the provider is replaced
        assertThatThrownBy(() -> session.use(label, key -> {
            throw new java.security.ProviderException("wrapped", Pkcs11FailureTest.pkcs11(0x5));
        })).isInstanceOf(KeyUnavailableException.class).hasMessage(HsmSession.UNAVAILABLE);
        assertThat(logs.list).anySatisfy(e -> assertThat(e.getFormattedMessage())
                .contains("The HSM session was lost (CKR_GENERAL_ERROR)"));
        // lost right after it was opened: opened again after the first back-off (ADR 0049, L2), not at once
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(20)).until(session::reachable);
        assertThat(session.loginAttempts()).isEqualTo(1);
        assertThat(kek.decrypt(kek.encrypt(new byte[8], AAD), AAD)).hasSize(8);
    }

    @Test
    void aBadTagIsTheTokensFailureWhenTheTokenNoLongerOpensWhatItSealed() throws Exception {
        HsmSession session = keep(HsmSession.open(hsm.library(), token.slotListIndex(), token.pinChars(), label(),
                HsmSession.Recovery.DEFAULT, new PerProcessLoginBudget(HsmSession.Recovery.DEFAULT)));
        String label = label();
        HsmSession.Kek kek = session.create(label);
        assertThat(session.reachable()).isTrue();

        try (AutoCloseable away = inspector.takeAway(token.slotListIndex(), hsm.securityOfficerPin())) {
            // what P11AEADCipher makes of CKR_GENERAL_ERROR, from a token that no longer answers the probe
            assertThatThrownBy(() -> session.use(label, key -> {
                throw badTag(Pkcs11FailureTest.pkcs11(0x5));
            })).isInstanceOf(KeyUnavailableException.class).hasMessage(HsmSession.UNAVAILABLE);
            assertThat(logs.list).anySatisfy(e -> assertThat(e.getFormattedMessage())
                    .contains("The HSM session was lost (CKR_GENERAL_ERROR)"));
            assertThat(session.reachable()).isFalse();
        }
        await().atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(20)).until(session::reachable);
        assertThat(kek.decrypt(kek.encrypt(new byte[8], AAD), AAD)).hasSize(8);
    }

    /**
     * Review L2 (ADR 0049): a session lost soon after it was opened (a token that flaps) is not opened again
     * at once, each time costing a login with no back-off: the wait starts at 1 s and doubles while the
     * sessions keep being lost soon after opening.
     */
    @Test
    void aSessionLostSoonAfterItWasOpenedIsOpenedAgainOnlyAfterTheBackOff() throws Exception {
        HsmSession.Recovery recovery = new HsmSession.Recovery(Duration.ofSeconds(4), Duration.ofMinutes(15), 3);
        HsmSession session = keep(HsmSession.open(hsm.library(), token.slotListIndex(), token.pinChars(), label(),
                recovery, new PerProcessLoginBudget(recovery)));
        String label = label();
        session.create(label);

        for (int loss = 1; loss <= 2; loss++) {
            assertThatThrownBy(() -> session.use(label, key -> {
                throw new java.security.ProviderException("wrapped", Pkcs11FailureTest.pkcs11(0xB3)); // CKR_SESSION_HANDLE_INVALID
            })).isInstanceOf(KeyUnavailableException.class);
            long lost = System.nanoTime();
            assertThat(session.reachable()).as("loss %d: not opened again at once", loss).isFalse();
            assertThat(session.loginAttempts()).isEqualTo(loss - 1);
            await().atMost(Duration.ofSeconds(6)).pollInterval(Duration.ofMillis(20)).until(session::reachable);
            // 1 s, then 2 s, each jittered down by at most a quarter
            assertThat(Duration.ofNanos(System.nanoTime() - lost)).as("loss %d", loss)
                    .isGreaterThanOrEqualTo(Duration.ofMillis(750L << (loss - 1)));
            assertThat(session.loginAttempts()).isEqualTo(loss);
        }
    }

    /**
     * Review L3 (ADR 0049): the probe gives up the session only when the session is at fault. A probe label the
     * token does not hold (the keyring naming a KEK version the HSM lacks) makes the node not ready, and keeps
     * the session: a new one would not find the key either, and would cost a login.
     */
    @Test
    void aProbeThatFailsForAnotherReasonThanTheSessionKeepsTheSession() throws Exception {
        HsmSession session = keep(HsmSession.open(hsm.library(), token.slotListIndex(), token.pinChars(), label(),
                HsmSession.Recovery.DEFAULT, new PerProcessLoginBudget(HsmSession.Recovery.DEFAULT)));
        String label = label();
        HsmSession.Kek kek = session.create(label);
        byte[] sealed = kek.encrypt("kept".getBytes(StandardCharsets.UTF_8), AAD);

        session.probeActiveKey(() -> "absent-" + UUID.randomUUID().toString().substring(0, 8));
        assertThat(session.reachable()).isFalse();
        assertThat(session.reachable()).isFalse();
        session.probeActiveKey(() -> label);
        assertThat(session.reachable()).as("the same session answers again").isTrue();
        assertThat(session.loginAttempts()).as("no login: the session was never given up").isZero();
        assertThat(new String(kek.decrypt(sealed, AAD), StandardCharsets.UTF_8)).isEqualTo("kept");
    }

    /** Opens a session configured with {@link #WRONG_PIN} while the process holds the token's login. */
    private HsmSession openWithAPinTheTokenWillRefuse(HsmSession.Recovery recovery) throws Exception {
        try (AutoCloseable loggedIn = inspector.logInAsUser(token.slotListIndex(), token.pin())) {
            return keep(HsmSession.open(hsm.library(), token.slotListIndex(), WRONG_PIN.toCharArray(), label(),
                recovery, new PerProcessLoginBudget(recovery)));
        }
    }

    private static boolean refused(HsmSession.Kek kek) {
        try {
            kek.decrypt(new byte[64], AAD);
            return false;
        } catch (KeyUnavailableException refused) {
            return true;
        } catch (Exception other) {
            return false;
        }
    }

    private static AEADBadTagException badTag(Exception cause) {
        AEADBadTagException badTag = new AEADBadTagException(cause.toString());
        badTag.initCause(cause);
        return badTag;
    }

    private static synchronized HsmSession keep(HsmSession session) {
        KEPT.add(session);
        return session;
    }

    private String label;

    /** One key label per test: the token is shared by the tests of this class. */
    private String label() {
        if (label == null) {
            label = "recovery-" + UUID.randomUUID().toString().substring(0, 8);
        }
        return label;
    }
}
