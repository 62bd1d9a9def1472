package health.carapace.signin.internal;

import java.util.List;
import java.util.UUID;
import org.springframework.security.authentication.AbstractAuthenticationToken;

/**
 * A person who has just completed both factors (password and TOTP) on the sign-in pages. This is
 * the only authentication the authorization endpoint accepts for issuing a code, so no code (and
 * no token) exists without both factors. It names the sign-in session that every token issued
 * from it will carry as {@code sid}.
 */
final class HumanLogin extends AbstractAuthenticationToken {

    private static final long serialVersionUID = 1L;

    private final String userName;
    private final UUID userId;
    private final UUID sessionId;
    /** What the person approved for a SMART app on the consent page, or null (a plain sign-in app). */
    private final SmartGrant grant;

    HumanLogin(String userName, UUID userId, UUID sessionId) {
        this(userName, userId, sessionId, null);
    }

    private HumanLogin(String userName, UUID userId, UUID sessionId, SmartGrant grant) {
        super(List.of());
        this.userName = userName;
        this.userId = userId;
        this.sessionId = sessionId;
        this.grant = grant;
        setAuthenticated(true);
    }

    /** The same sign-in, with the person's consent to one SMART app's request. */
    HumanLogin withGrant(SmartGrant approved) {
        return new HumanLogin(userName, userId, sessionId, approved);
    }

    java.util.Optional<SmartGrant> grant() {
        return java.util.Optional.ofNullable(grant);
    }

    @Override
    public Object getCredentials() {
        return null;
    }

    @Override
    public Object getPrincipal() {
        return userName;
    }

    @Override
    public String getName() {
        return userName;
    }

    UUID userId() {
        return userId;
    }

    UUID sessionId() {
        return sessionId;
    }
}
