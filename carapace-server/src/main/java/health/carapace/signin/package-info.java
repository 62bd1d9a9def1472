/**
 * Who is calling: accounts ({@link health.carapace.signin.Users},
 * {@link health.carapace.signin.ServiceClients}, {@link health.carapace.signin.LoginApps}), the
 * OAuth2 authorization server (client credentials; authorization code with PKCE, password and
 * TOTP through its own pages; sessions, throttling, token signing and revocation), the security
 * filter chains, and the resolution of every bearer token into the policy's
 * {@link health.carapace.access.Caller}, whose permissions route authorization then asks the
 * policy about. Also the periodic {@link health.carapace.signin.AccessReview} of the accounts.
 * Depends on the {@code access} policy's API; the policy never depends on it
 * (docs/adr/0014-sign-in-apart-from-policy.md).
 */
@org.springframework.modulith.ApplicationModule(
        allowedDependencies = {"access", "audit", "compliance", "crypto", "platform :: config", "platform :: logging",
                "platform :: web"})
package health.carapace.signin;
