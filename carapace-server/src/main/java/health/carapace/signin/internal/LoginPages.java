package health.carapace.signin.internal;

import static health.carapace.signin.internal.LoginHtml.error;
import static health.carapace.signin.internal.LoginHtml.field;
import static health.carapace.signin.internal.LoginHtml.form;
import static health.carapace.signin.internal.LoginHtml.hidden;
import static health.carapace.signin.internal.LoginHtml.input;
import static health.carapace.signin.internal.LoginHtml.page;
import static health.carapace.signin.internal.LoginHtml.paragraph;
import static health.carapace.signin.internal.LoginHtml.redirect;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.platform.logging.RequestIds;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.Serializable;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.web.context.HttpSessionSecurityContextRepository;
import org.springframework.security.web.savedrequest.SavedRequest;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The sign-in pages of the authorization server: password, then TOTP (enrolled here at the first
 * sign-in), and the enrolment link where a new user sets a password. Only after both factors
 * does the browser session hold an authentication ({@link HumanLogin}), and only that lets the
 * authorization endpoint issue a code. Every refusal says the same thing whether or not the
 * account exists, is disabled, is locked or the password was wrong; unknown names cost a hash
 * computation like known ones.
 */
@RestController
class LoginPages {

    private static final Logger log = LoggerFactory.getLogger(LoginPages.class);
    private static final String PENDING = LoginPages.class.getName() + ".pending";
    private static final String ISSUER = "Carapace";
    static final String SIGN_IN_FAILED = "Sign-in failed. Check your user name and password, or try again later.";
    static final String CODE_FAILED = "That code was not accepted. Wait for the next code and try again.";
    private static final String CODE_RULE = "A code changes every 30 seconds and works once. Check that your device's"
            + " clock is right.";
    static final String REQUEST_INVALID = "This sign-in request is not valid, or has expired. Start again from your"
            + " application.";
    private static final String LINK_INVALID = "This enrolment link is not valid: it may have expired or been used."
            + " Ask your administrator for a new one.";
    static final int MIN_PASSWORD = 12;
    private static final int MAX_PASSWORD = 1024;

    /** Password verified, second factor pending. {@code enrolSeed} is set while TOTP is being enrolled. */
    record Pending(UUID userId, String userName, byte[] enrolSeed) implements Serializable {}

    private final UserDirectory users;
    private final Sessions sessions;
    private final LoginThrottle throttle;
    private final TotpSeals seals;
    private final Totp totp = new Totp();
    private final PasswordEncoder hasher;
    private final AuditTrail audit;
    private final AuthorizationRequestCookie authorizationRequests;
    private final SignInStateRefusals refusals;
    private final String unknownUserHash;
    private final HttpSessionSecurityContextRepository contexts = new HttpSessionSecurityContextRepository();
    private final health.carapace.access.ClientAddress clientAddresses;
    /** Decides the TOTP step and whether an enrolment link has expired. */
    private final Clock clock;
    /** Names the app the person is signing in to, in every page of the sign-in. */
    private final AskingApp askingApp;
    /** Said on every refusal, whatever its cause, so the page is the same for every cause. */
    private final String lockoutRule;

    LoginPages(UserDirectory users, Sessions sessions, LoginThrottle throttle, TotpSeals seals, PasswordEncoder secretHasher,
            AuditTrail audit, HumanSignIn signIn, health.carapace.access.ClientAddress clientAddresses, Clock clock,
            RegisteredClientRepository clients, SignInSettings settings) {
        this.users = users;
        this.askingApp = new AskingApp(signIn.authorizationRequests(), clients);
        this.lockoutRule = lockoutRule(settings);
        // the pages' stylesheet is versioned by its content when LoginHtml loads: a build without it fails here, at start
        java.util.Objects.requireNonNull(LoginHtml.STYLESHEET);
        this.clock = clock;
        this.clientAddresses = clientAddresses;
        this.sessions = sessions;
        this.throttle = throttle;
        this.seals = seals;
        this.hasher = secretHasher;
        this.audit = audit;
        this.authorizationRequests = signIn.authorizationRequests();
        this.refusals = new SignInStateRefusals(audit);
        this.unknownUserHash = secretHasher.encode(UUID.randomUUID().toString());
    }

    // --- password ----------------------------------------------------------------------------

    @GetMapping("/login")
    ResponseEntity<String> loginForm(HttpServletRequest request, HttpServletResponse response) {
        AuthorizationRequestCookie.Held held = authorizationRequests.held(request);
        if (held.refusal() != null) {
            // Altered, forged, or sealed under a key destroyed since: said plainly, audited, forgotten.
            refusals.refused(request, SignInStateRefusals.reason(held.refusal(), SignInStateRefusals.REQUEST_FORGED));
            authorizationRequests.removeRequest(request, response);
            return page(HttpStatus.BAD_REQUEST, "Sign in", paragraph(REQUEST_INVALID));
        }
        return loginPage(request, HttpStatus.OK, null);
    }

    @PostMapping("/login")
    ResponseEntity<String> login(@RequestParam(name = "username", required = false) String userName,
            @RequestParam(name = "password", required = false) String password, HttpServletRequest request) {
        String address = address(request);
        String name = userName == null ? "" : userName.strip();
        // A name no account can have is not looked up (SignInFields has already refused control
        // characters and over-long values); it fails like an unknown one, hash included.
        Optional<UserDirectory.Account> account = health.carapace.access.Caller.USER_NAME.matcher(name).matches()
                ? users.byName(name) : Optional.empty();
        LoginThrottle.Attempt attempt = throttle.reserve(name, address);
        boolean allowed = attempt.allowed();
        // Always one Argon2id computation, whatever the outcome will be, so timing says nothing.
        String hash = account.map(UserDirectory.Account::passwordHash).orElse(null);
        boolean passwordMatches = hasher.matches(password == null ? "" : password, hash != null ? hash : unknownUserHash)
                && hash != null;
        if (!allowed || !passwordMatches || account.get().disabled()) {
            String who = account.map(UserDirectory.Account::userName).orElse("unknown-user");
            failed(request, who, name, address, attempt, AuditAction.LOGIN_FAILED, "/login");
            return loginPage(request, HttpStatus.OK, SIGN_IN_FAILED);
        }
        throttle.release(name, address);
        // The browser's first session row, now that a password has been accepted (ADR 0042); a
        // session it already had (a second sign-in) gets a new id, against fixation.
        if (request.getSession(false) != null) {
            request.changeSessionId();
        }
        request.getSession().setAttribute(PENDING, new Pending(account.get().id(), account.get().userName(), null));
        return redirect(account.get().mfaEnrolled() ? "/login/mfa" : "/login/totp");
    }

    private ResponseEntity<String> loginPage(HttpServletRequest request, HttpStatus status, String message) {
        // One answer for every refusal (wrong password, unknown name, disabled, backed off, locked):
        // the rule is stated, never whether it applies, so the page says nothing about the account.
        return page(status, "Sign in", app(request), error(message, message == null ? null : lockoutRule)
                + paragraph("Sign in with your " + LoginHtml.PRODUCT + " user name and password. You will then be"
                        + " asked for a code from your authenticator app.")
                + form(request, "/login", input("User name", "username", "text", "username")
                        + input("Password", "password", "password", "current-password"), "Continue"));
    }

    /** The lockout rule in words, from the settings (the same sentence for every refusal). */
    static String lockoutRule(SignInSettings settings) {
        return "For your protection, sign-in slows down after a failed attempt, and after " + settings.maxFailures()
                + " failed attempts in a row it is paused for " + words(settings.lockout())
                + ". If you cannot sign in after that, ask your administrator.";
    }

    private static String words(java.time.Duration duration) {
        long seconds = duration.toSeconds();
        if (seconds >= 120 && seconds % 60 == 0) {
            return seconds / 60 + " minutes";
        }
        return seconds == 1 ? "1 second" : seconds + " seconds";
    }

    /** The display name of the app that asked for this sign-in, or null. */
    private String app(HttpServletRequest request) {
        return askingApp.name(request).orElse(null);
    }

    // --- second factor -----------------------------------------------------------------------

    @GetMapping("/login/mfa")
    ResponseEntity<String> mfaForm(HttpServletRequest request) {
        Optional<Pending> pending = pending(request);
        if (pending.isEmpty()) {
            return redirect("/login");
        }
        return mfaPage(request, null);
    }

    @PostMapping("/login/mfa")
    ResponseEntity<String> mfa(@RequestParam(name = "code", required = false) String code, HttpServletRequest request,
            HttpServletResponse response) {
        Optional<Pending> pending = pending(request);
        if (pending.isEmpty()) {
            return redirect("/login");
        }
        Optional<UserDirectory.Account> account = users.byId(pending.get().userId());
        if (account.isEmpty() || account.get().disabled() || !account.get().mfaEnrolled()) {
            return restart(request);
        }
        String address = address(request);
        LoginThrottle.Attempt attempt = throttle.reserve(account.get().userName(), address);
        boolean allowed = attempt.allowed();
        byte[] seed = seals.open(account.get().id(), account.get().totpSealed());
        OptionalLong step = totp.matchingStep(seed, code, clock.instant());
        java.util.Arrays.fill(seed, (byte) 0);
        if (!allowed || step.isEmpty() || !users.acceptStep(account.get().id(), step.getAsLong())) {
            if (failed(request, account.get().userName(), account.get().userName(), address, attempt,
                    AuditAction.MFA_FAILED, "/login/mfa")) {
                return restart(request);
            }
            return mfaPage(request, CODE_FAILED);
        }
        return complete(request, response, account.get());
    }

    private ResponseEntity<String> mfaPage(HttpServletRequest request, String message) {
        return page(HttpStatus.OK, "Authenticator code", app(request), error(message, message == null ? null : CODE_RULE)
                + form(request, "/login/mfa", field("Code", "code", "text", "one-time-code", true,
                        "The 6-digit code your authenticator app shows for " + LoginHtml.PRODUCT + "."), "Sign in"));
    }

    // --- TOTP enrolment at the first sign-in -------------------------------------------------

    @GetMapping("/login/totp")
    ResponseEntity<String> totpForm(HttpServletRequest request) {
        Optional<Pending> pending = pending(request);
        if (pending.isEmpty()) {
            return redirect("/login");
        }
        Optional<UserDirectory.Account> account = users.byId(pending.get().userId());
        if (account.isEmpty() || account.get().disabled()) {
            return restart(request);
        }
        if (account.get().mfaEnrolled()) {
            return redirect("/login/mfa");
        }
        // A new secret each time the page is fetched: a secret is shown once and never stored
        // until the person proves, with a code, that their authenticator holds it.
        byte[] seed = Totp.newSeed();
        request.getSession().setAttribute(PENDING, new Pending(account.get().id(), account.get().userName(), seed));
        return totpPage(request, account.get().userName(), seed, null);
    }

    @PostMapping("/login/totp")
    ResponseEntity<String> enrolTotp(@RequestParam(name = "code", required = false) String code,
            HttpServletRequest request, HttpServletResponse response) {
        Optional<Pending> pending = pending(request);
        if (pending.isEmpty() || pending.get().enrolSeed() == null) {
            return redirect("/login");
        }
        Optional<UserDirectory.Account> account = users.byId(pending.get().userId());
        if (account.isEmpty() || account.get().disabled() || account.get().mfaEnrolled()) {
            return restart(request);
        }
        String address = address(request);
        byte[] seed = pending.get().enrolSeed();
        LoginThrottle.Attempt attempt = throttle.reserve(account.get().userName(), address);
        boolean allowed = attempt.allowed();
        OptionalLong step = totp.matchingStep(seed, code, clock.instant());
        if (!allowed || step.isEmpty()) {
            if (failed(request, account.get().userName(), account.get().userName(), address, attempt,
                    AuditAction.MFA_FAILED, "/login/totp")) {
                return restart(request);
            }
            return totpPage(request, account.get().userName(), seed, CODE_FAILED);
        }
        if (!users.enrolTotp(account.get().id(), seals.seal(account.get().id(), seed), step.getAsLong())) {
            return restart(request);
        }
        record(request, account.get().userName(), AuditAction.CREDENTIALS_ENROLLED, "/login/totp", true);
        return complete(request, response, account.get());
    }

    private ResponseEntity<String> totpPage(HttpServletRequest request, String userName, byte[] seed, String message) {
        return page(HttpStatus.OK, "Set up your authenticator", app(request), error(message, message == null ? null : CODE_RULE)
                + paragraph(LoginHtml.PRODUCT + " asks for a second factor at every sign-in. Add this account to an"
                        + " authenticator app, then enter the code it shows.")
                + "<ol><li>In your authenticator app, add an account with the link or the secret below (time-based,"
                + " SHA-256, 6 digits, 30 seconds). They are shown only during this setup.</li>"
                + "<li>Enter the 6-digit code the app then shows.</li></ol>"
                + "<p>Link: <code>" + LoginHtml.escape(Totp.otpauthUri(ISSUER, userName, seed)) + "</code></p>"
                + "<p>Secret: <code id=\"secret\">" + LoginHtml.escape(Totp.base32(seed)) + "</code></p>"
                + form(request, "/login/totp", field("Code from the app", "code", "text", "one-time-code", true,
                        "6 digits, from the account you just added."), "Confirm and sign in"));
    }

    // --- enrolment link: set the first password ----------------------------------------------

    @GetMapping("/login/enrol")
    ResponseEntity<String> enrolForm(@RequestParam(name = "token", required = false) String token,
            HttpServletRequest request) {
        if (users.enrolmentUser(token, clock.instant()).isEmpty()) {
            return page(HttpStatus.NOT_FOUND, "Enrolment", paragraph(LINK_INVALID));
        }
        return enrolPage(request, token, null);
    }

    @PostMapping("/login/enrol")
    ResponseEntity<String> enrol(@RequestParam(name = "token", required = false) String token,
            @RequestParam(name = "password", required = false) String password,
            @RequestParam(name = "confirm", required = false) String confirm, HttpServletRequest request) {
        Instant now = clock.instant();
        Optional<UserDirectory.Account> account = users.enrolmentUser(token, now);
        if (account.isEmpty()) {
            return page(HttpStatus.NOT_FOUND, "Enrolment", paragraph(LINK_INVALID));
        }
        String problem = passwordProblem(account.get().userName(), password, confirm);
        if (problem != null) {
            return enrolPage(request, token, problem);
        }
        Optional<UUID> redeemed = users.redeemEnrolment(token, now);
        if (redeemed.isEmpty() || !redeemed.get().equals(account.get().id())) {
            return page(HttpStatus.NOT_FOUND, "Enrolment", paragraph(LINK_INVALID));
        }
        users.setPassword(account.get().id(), hasher.encode(password));
        record(request, account.get().userName(), AuditAction.CREDENTIALS_ENROLLED, "/login/enrol", true);
        return page(HttpStatus.OK, "Password set", paragraph("Your password is set. Sign in from your application;"
                + " at the first sign-in you will set up your authenticator app."));
    }

    static String passwordProblem(String userName, String password, String confirm) {
        if (password == null || password.length() < MIN_PASSWORD || password.length() > MAX_PASSWORD) {
            return "Choose a password of at least " + MIN_PASSWORD + " characters.";
        }
        if (password.toLowerCase(Locale.ROOT).contains(userName.toLowerCase(Locale.ROOT))) {
            return "The password must not contain your user name.";
        }
        if (!password.equals(confirm)) {
            return "The two passwords are not the same.";
        }
        return null;
    }

    private ResponseEntity<String> enrolPage(HttpServletRequest request, String token, String message) {
        return page(HttpStatus.OK, "Choose your password", error(message)
                + paragraph("Welcome to " + LoginHtml.PRODUCT + ". Choose the password you will sign in with.")
                + form(request, "/login/enrol", hidden("token", token)
                        + field("New password", "password", "password", "new-password", true,
                                "At least " + MIN_PASSWORD + " characters, not containing your user name.")
                        + input("New password again", "confirm", "password", "new-password"), "Set password"));
    }

    // --- shared ------------------------------------------------------------------------------

    /**
     * Whatever fails on these pages is answered by them, as a page: never by the container's
     * error handling (whose second pass through the filters answered with the API's 401), and
     * never with the exception's message, which a driver fills with the SQL and the input.
     */
    @ExceptionHandler(Exception.class)
    ResponseEntity<String> failure(Exception e) {
        log.error("A sign-in page failed", e);
        return page(HttpStatus.INTERNAL_SERVER_ERROR, "Sign in", paragraph("Sign-in is unavailable. Try again later."));
    }

    /** Both factors passed: open the session, authenticate the browser session, resume the authorization request. */
    private ResponseEntity<String> complete(HttpServletRequest request, HttpServletResponse response,
            UserDirectory.Account account) {
        throttle.succeeded(account.userName(), address(request));
        UUID sessionId = sessions.open(account.id());
        try {
            record(request, account.userName(), AuditAction.LOGIN, "/login", true);
        } catch (AuditUnavailableException e) {
            sessions.revoke(sessionId);
            log.warn("A sign-in could not be audited; it was refused", e);
            return page(HttpStatus.SERVICE_UNAVAILABLE, "Sign in", paragraph("Sign-in is unavailable. Try again later."));
        }
        HttpSession session = request.getSession();
        session.removeAttribute(PENDING);
        request.changeSessionId();
        SecurityContext context = SecurityContextHolder.createEmptyContext();
        context.setAuthentication(new HumanLogin(account.userName(), account.id(), sessionId));
        contexts.saveContext(context, request, response);
        SavedRequest authorization = authorizationRequests.getRequest(request, response);
        if (authorization == null) {
            return page(HttpStatus.OK, "Signed in", LoginHtml.notice("You are signed in. Return to your application."));
        }
        // A SMART app's request (it asks for scopes) goes through the consent page first.
        return redirect(ConsentPages.needed(authorization) ? ConsentPages.PATH : authorization.getRedirectUrl());
    }

    /**
     * Audits a failure (already counted when the attempt was reserved; one refused by the back-off
     * counts nothing); true if this failure locked the account (the sign-in must restart).
     */
    private boolean failed(HttpServletRequest request, String auditUser, String name, String address,
            LoginThrottle.Attempt attempt, AuditAction action, String path) {
        boolean locked = attempt.locksAccount();
        if (attempt.allowed()) {
            throttle.confirmFailure(name, address);
        }
        try {
            record(request, auditUser, action, path, false);
            if (locked) {
                record(request, auditUser, AuditAction.LOCKOUT, path, false);
            }
        } catch (AuditUnavailableException e) {
            log.warn("A refused sign-in could not be audited", e);
        }
        return locked;
    }

    private ResponseEntity<String> restart(HttpServletRequest request) {
        HttpSession session = request.getSession(false);
        if (session != null) {
            session.removeAttribute(PENDING);
        }
        return loginPage(request, HttpStatus.OK, SIGN_IN_FAILED);
    }

    /**
     * The real client address (X-Forwarded-For from trusted proxies only): behind a proxy the TCP
     * peer is the proxy, and throttling by it would slow everyone down for one sprayer.
     */
    private String address(HttpServletRequest request) {
        return clientAddresses.resolve(request).getHostAddress();
    }

    private static Optional<Pending> pending(HttpServletRequest request) {
        HttpSession session = request.getSession(false);
        return session == null ? Optional.empty()
                : Optional.ofNullable(session.getAttribute(PENDING) instanceof Pending p ? p : null);
    }

    private void record(HttpServletRequest request, String user, AuditAction action, String path, boolean success) {
        audit.record(List.of(AuditEvent.now(user, action, path, AuditContext.of(request), success, null, null,
                RequestIds.current())));
    }
}
