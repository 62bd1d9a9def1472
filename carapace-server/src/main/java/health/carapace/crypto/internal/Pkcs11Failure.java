package health.carapace.crypto.internal;

import java.security.ProviderException;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.BadPaddingException;
import javax.crypto.IllegalBlockSizeException;
import javax.security.auth.login.FailedLoginException;

/**
 * What a failure of a PKCS#11 call says about the token (ADR 0045): an answer about the data, a token
 * that has stopped serving this node, or a refused PIN. The PKCS#11 return value ({@code CKR_...})
 * decides where there is one; SunPKCS11 wraps it in {@code sun.security.pkcs11.wrapper.PKCS11Exception},
 * which main code cannot compile against ({@code --release 17}), so the value is read from that
 * exception's message, which is the value's name and never input.
 */
final class Pkcs11Failure {

    private static final String PKCS11_EXCEPTION = "sun.security.pkcs11.wrapper.PKCS11Exception";
    private static final Pattern CODE = Pattern.compile("CKR_[A-Z0-9_]+");
    /** How SunPKCS11 names a return value it has no name for (a vendor's): its 32 bits in hex. */
    private static final Pattern UNNAMED = Pattern.compile("0x([0-9A-Fa-f]{8})");
    /** {@code CKR_VENDOR_DEFINED}: this value and every one above it are the vendor's own. */
    private static final long VENDOR_DEFINED = 0x80000000L;
    private static final String VENDOR_PREFIX = "CKR_VENDOR_DEFINED";

    /**
     * The token's answers about the ciphertext handed to it. SunPKCS11 turns these, and also
     * {@code CKR_GENERAL_ERROR} (a Solaris habit, P11AEADCipher.handleException), into
     * {@code AEADBadTagException} or {@code IllegalBlockSizeException}: the exception's type alone does
     * not say which.
     */
    private static final Set<String> ABOUT_THE_DATA = Set.of("CKR_ENCRYPTED_DATA_INVALID",
            "CKR_ENCRYPTED_DATA_LEN_RANGE", "CKR_DATA_INVALID", "CKR_DATA_LEN_RANGE");

    /**
     * A login the token refused because of the PIN. Trying again with the same PIN can only count
     * towards the token's lockout (a network HSM locks the partition after a few), so these stop the
     * automatic retries; every other login failure (a device, session or network error, another user
     * logged in) is transient.
     */
    private static final Set<String> REFUSED_PIN = Set.of("CKR_PIN_INCORRECT", "CKR_PIN_LOCKED",
            "CKR_PIN_EXPIRED", "CKR_PIN_INVALID", "CKR_PIN_LEN_RANGE");

    private Pkcs11Failure() {
    }

    /**
     * The PKCS#11 return value's name in {@code e}'s causes (e.g. {@code CKR_GENERAL_ERROR}), or null. A
     * vendor-defined value ({@code CKR_VENDOR_DEFINED} and above), which the JDK shows in hex, is named
     * {@code CKR_VENDOR_DEFINED+0x8000....}: still a closed vocabulary of digits, never input.
     */
    static String code(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getClass().getName().equals(PKCS11_EXCEPTION) && t.getMessage() != null) {
                // the name, then any extra text the provider appends (on JDK 17 without a separator)
                String message = t.getMessage().strip();
                Matcher name = CODE.matcher(message);
                if (name.lookingAt()) {
                    return name.group();
                }
                Matcher unnamed = UNNAMED.matcher(message);
                if (unnamed.lookingAt() && Long.parseLong(unnamed.group(1), 16) >= VENDOR_DEFINED) {
                    return VENDOR_PREFIX + "+0x" + unnamed.group(1).toUpperCase(java.util.Locale.ROOT);
                }
                return null;
            }
        }
        return null;
    }

    /** Whether {@code code} is a vendor's own return value, whose meaning the standard does not give. */
    static boolean vendorDefined(String code) {
        return code != null && code.startsWith(VENDOR_PREFIX);
    }

    /**
     * Whether {@code e} says the token no longer serves this node (its sessions, its device, its login
     * are gone or broken) rather than answering about the data. A PKCS#11 return value decides when
     * there is one: only {@link #ABOUT_THE_DATA} is an answer, everything else ({@code CKR_GENERAL_ERROR},
     * {@code CKR_DEVICE_*}, {@code CKR_SESSION_*}, {@code CKR_TOKEN_*}, {@code CKR_USER_NOT_LOGGED_IN}, a
     * dead key handle, a vendor-defined value...) is the token's failure, even under an
     * {@code AEADBadTagException}: the session is replaced, at the transient back-off. Without one,
     * a bad tag or length with no cause is the JDK's own check of the data, and a provider exception is
     * the provider's failure.
     */
    static boolean fromTheToken(Throwable e) {
        String code = code(e);
        if (code != null) {
            return !ABOUT_THE_DATA.contains(code);
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BadPaddingException || t instanceof IllegalBlockSizeException) {
                return false;
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ProviderException || t.getClass().getName().startsWith("sun.security.pkcs11.")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code e} is a bad tag carrying {@code CKR_GENERAL_ERROR}: a broken token says that, and so does
     * SoftHSM2 (2.6) for a tag that does not verify. {@link #fromTheToken} counts it as the token's failure;
     * a caller that can ask the token a question with a known answer (the session's probe) tells the two
     * apart that way before it gives up the session.
     */
    static boolean ambiguousBadTag(Throwable e) {
        return e instanceof javax.crypto.AEADBadTagException && "CKR_GENERAL_ERROR".equals(code(e));
    }

    /**
     * The reason when {@code e} is a login the token refused because of the PIN, else null: the
     * PKCS#11 return value's name, or {@code CKR_PIN_INCORRECT} for SunPKCS11's {@link FailedLoginException}
     * (which it throws for exactly that value).
     */
    static String refusedLogin(Throwable e) {
        String code = code(e);
        // A vendor's value at login is taken as a refusal (ADR 0049, review L1): it may be the vendor's own
        // "PIN incorrect" or "PIN locked" (HSMs define such codes), and retrying it every few seconds could
        // lock the token's PIN; counted against the installation's budget, it costs at most a reset.
        if (code != null && (REFUSED_PIN.contains(code) || vendorDefined(code))) {
            return code;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof FailedLoginException) {
                return "CKR_PIN_INCORRECT";
            }
        }
        return null;
    }

    /** For logs: the PKCS#11 return value's name, or the exception's simple class name (never a message). */
    static String reason(Throwable e) {
        String code = code(e);
        return code != null ? code : e.getClass().getSimpleName();
    }
}
