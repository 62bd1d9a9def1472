package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.security.ProviderException;
import javax.crypto.AEADBadTagException;
import javax.crypto.IllegalBlockSizeException;
import javax.security.auth.login.FailedLoginException;
import javax.security.auth.login.LoginException;
import org.junit.jupiter.api.Test;

/**
 * Review finding M2 and M1 (ADR 0045): what a PKCS#11 failure says, read from the JDK's own
 * {@code PKCS11Exception} as SunPKCS11 wraps it. SoftHSM2 cannot be told to answer
 * {@code CKR_GENERAL_ERROR}, so the provider's wrapping is rebuilt here exactly as
 * {@code P11AEADCipher.handleException} and {@code SunPKCS11.login} do it; the real token's answers are
 * covered by {@link HsmSessionRecoveryTest} and {@link HsmSessionOutageTest}.
 */
class Pkcs11FailureTest {

    // PKCS#11 v2.40 return values
    private static final long CKR_GENERAL_ERROR = 0x5;
    private static final long CKR_DEVICE_ERROR = 0x30;
    private static final long CKR_ENCRYPTED_DATA_INVALID = 0x40;
    private static final long CKR_ENCRYPTED_DATA_LEN_RANGE = 0x41;
    private static final long CKR_PIN_INCORRECT = 0xA0;
    private static final long CKR_PIN_EXPIRED = 0xA3;
    private static final long CKR_PIN_LOCKED = 0xA4;
    private static final long CKR_SESSION_HANDLE_INVALID = 0xB3;
    private static final long CKR_TOKEN_NOT_PRESENT = 0xE0;
    private static final long CKR_USER_NOT_LOGGED_IN = 0x101;
    private static final long CKR_USER_ANOTHER_ALREADY_LOGGED_IN = 0x104;

    @Test
    void aBadTagCarryingAGeneralErrorIsTheTokensFailureNotAnAnswerAboutTheData() {
        assertThat(Pkcs11Failure.fromTheToken(badTag(pkcs11(CKR_GENERAL_ERROR)))).isTrue();
        assertThat(Pkcs11Failure.code(badTag(pkcs11(CKR_GENERAL_ERROR)))).isEqualTo("CKR_GENERAL_ERROR");
    }

    @Test
    void onlyABadTagCarryingAGeneralErrorIsAmbiguous() {
        assertThat(Pkcs11Failure.ambiguousBadTag(badTag(pkcs11(CKR_GENERAL_ERROR)))).isTrue();
        assertThat(Pkcs11Failure.ambiguousBadTag(badTag(pkcs11(CKR_DEVICE_ERROR)))).isFalse();
        assertThat(Pkcs11Failure.ambiguousBadTag(new ProviderException("x", pkcs11(CKR_GENERAL_ERROR)))).isFalse();
        assertThat(Pkcs11Failure.ambiguousBadTag(new AEADBadTagException("Tag mismatch"))).isFalse();
    }

    @Test
    void aBadTagIsAnAnswerOnlyWithoutACauseOrWithEncryptedDataInvalid() {
        assertThat(Pkcs11Failure.fromTheToken(new AEADBadTagException("Tag mismatch"))).isFalse();
        assertThat(Pkcs11Failure.fromTheToken(badTag(pkcs11(CKR_ENCRYPTED_DATA_INVALID)))).isFalse();
        // the provider may append text to the name, on JDK 17 without a separator
        assertThat(Pkcs11Failure.fromTheToken(badTag(pkcs11(CKR_ENCRYPTED_DATA_INVALID, "extra")))).isFalse();
        IllegalBlockSizeException badLength = new IllegalBlockSizeException("length");
        badLength.initCause(pkcs11(CKR_ENCRYPTED_DATA_LEN_RANGE));
        assertThat(Pkcs11Failure.fromTheToken(badLength)).isFalse();
    }

    @Test
    void deviceSessionTokenAndLoginFailuresAreTheTokens() {
        for (long code : new long[] {CKR_DEVICE_ERROR, CKR_SESSION_HANDLE_INVALID, CKR_TOKEN_NOT_PRESENT,
                CKR_USER_NOT_LOGGED_IN}) {
            assertThat(Pkcs11Failure.fromTheToken(badTag(pkcs11(code)))).as("0x%x under a bad tag", code).isTrue();
            assertThat(Pkcs11Failure.fromTheToken(new ProviderException("wrapped", pkcs11(code)))).isTrue();
        }
        assertThat(Pkcs11Failure.fromTheToken(new ProviderException("no PKCS#11 code"))).isTrue();
        assertThat(Pkcs11Failure.fromTheToken(new IllegalStateException("not the token's"))).isFalse();
    }

    @Test
    void aRefusedPinIsToldApartFromATransientLoginFailure() {
        // SunPKCS11.login: CKR_PIN_INCORRECT becomes FailedLoginException, anything else LoginException;
        // P11KeyStore.engineLoad wraps either in IOException("load failed").
        assertThat(Pkcs11Failure.refusedLogin(loadFailed(login(new FailedLoginException(), CKR_PIN_INCORRECT))))
                .isEqualTo("CKR_PIN_INCORRECT");
        assertThat(Pkcs11Failure.refusedLogin(loadFailed(login(new LoginException(), CKR_PIN_LOCKED))))
                .isEqualTo("CKR_PIN_LOCKED");
        assertThat(Pkcs11Failure.refusedLogin(loadFailed(login(new LoginException(), CKR_PIN_EXPIRED))))
                .isEqualTo("CKR_PIN_EXPIRED");
        assertThat(Pkcs11Failure.refusedLogin(loadFailed(new FailedLoginException()))).isEqualTo("CKR_PIN_INCORRECT");

        assertThat(Pkcs11Failure.refusedLogin(loadFailed(login(new LoginException(),
                CKR_USER_ANOTHER_ALREADY_LOGGED_IN)))).isNull();
        assertThat(Pkcs11Failure.refusedLogin(loadFailed(login(new LoginException(), CKR_DEVICE_ERROR)))).isNull();
        assertThat(Pkcs11Failure.refusedLogin(new ProviderException("Initialization failed"))).isNull();
    }

    /**
     * Review L1 (ADR 0049): a vendor's own return value ({@code CKR_VENDOR_DEFINED}, 0x80000000, and above,
     * which the JDK shows in hex) is the token's failure on the data path (the session is replaced), and at
     * login a refusal: it may be the vendor's "PIN incorrect" or "PIN locked", so it is not retried every
     * few seconds.
     */
    @Test
    void aVendorDefinedValueIsTheTokensFailureAndAtLoginARefusal() {
        for (long code : new long[] {0x80000000L, 0x80000101L, 0xFFFFFFFFL}) {
            assertThat(Pkcs11Failure.code(pkcs11(code))).as("0x%x", code).startsWith("CKR_VENDOR_DEFINED");
            assertThat(Pkcs11Failure.fromTheToken(new ProviderException("wrapped", pkcs11(code)))).isTrue();
            assertThat(Pkcs11Failure.fromTheToken(badTag(pkcs11(code)))).isTrue();
            assertThat(Pkcs11Failure.refusedLogin(loadFailed(login(new LoginException(), code))))
                    .as("0x%x at login", code).startsWith("CKR_VENDOR_DEFINED");
        }
        assertThat(Pkcs11Failure.code(pkcs11(0x80000101L))).isEqualTo("CKR_VENDOR_DEFINED+0x80000101");
        assertThat(Pkcs11Failure.reason(pkcs11(0x80000101L))).isEqualTo("CKR_VENDOR_DEFINED+0x80000101");
    }

    @Test
    void theLoggedReasonIsTheReturnValuesNameOrAClassNameNeverAMessage() {
        assertThat(Pkcs11Failure.reason(badTag(pkcs11(CKR_GENERAL_ERROR)))).isEqualTo("CKR_GENERAL_ERROR");
        assertThat(Pkcs11Failure.reason(new IllegalStateException("Patient Jane Doe"))).isEqualTo("IllegalStateException");
    }

    private static AEADBadTagException badTag(Exception cause) {
        AEADBadTagException badTag = new AEADBadTagException(cause.toString());
        badTag.initCause(cause);
        return badTag;
    }

    private static LoginException login(LoginException login, long code) {
        login.initCause(pkcs11(code));
        return login;
    }

    private static IOException loadFailed(Exception cause) {
        return new IOException("load failed", cause);
    }

    static Exception pkcs11(long code) {
        return pkcs11(code, null);
    }

    /** The JDK's own exception, made by reflection: {@code --release 17} does not compile against it. */
    static Exception pkcs11(long code, String extraInfo) {
        try {
            return (Exception) Class.forName("sun.security.pkcs11.wrapper.PKCS11Exception")
                    .getConstructor(long.class, String.class).newInstance(code, extraInfo);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("This JDK's PKCS11Exception differs from JDK 17's", e);
        }
    }
}
