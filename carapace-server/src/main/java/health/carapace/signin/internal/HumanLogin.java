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

    HumanLogin(String userName, UUID userId, UUID sessionId) {
        super(List.of());
        this.userName = userName;
        this.userId = userId;
        this.sessionId = sessionId;
        setAuthenticated(true);
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
