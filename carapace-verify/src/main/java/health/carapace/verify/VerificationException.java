package health.carapace.verify;

import java.security.GeneralSecurityException;

/**
 * A proof, a signature or a bundle did not verify. Checked, and thrown rather than returned as
 * a boolean, so that a caller cannot forget to look at the outcome (Tink's convention).
 */
public class VerificationException extends GeneralSecurityException {

    private static final long serialVersionUID = 1L;

    public VerificationException(String message) {
        super(message);
    }

    public VerificationException(String message, Throwable cause) {
        super(message, cause);
    }
}
