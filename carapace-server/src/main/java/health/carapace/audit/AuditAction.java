package health.carapace.audit;

/** What happened, in the vocabulary of the audit schema (lower-case in the event JSON). */
public enum AuditAction {
    /** PHI was returned: read, vread, history, a patient's records in a search page. */
    VIEWED,
    /** A search ran; the query itself is stored encrypted under the audit key. */
    SEARCHED,
    CREATED,
    MODIFIED,
    DELETED,
    /** A request was refused for want of authentication or permission. */
    DENIED,
    /** A client or user obtained a token. */
    LOGIN,
    /** A token request failed (bad credentials, disabled client). */
    LOGIN_FAILED,
    /** A token was revoked at the authorization server's revocation endpoint. */
    TOKEN_REVOKED,
    /** A person's second factor (TOTP) was wrong, reused or throttled. */
    MFA_FAILED,
    /** An account was locked after too many failed sign-ins. */
    LOCKOUT,
    /** A person signed out (their session's refresh token was revoked). */
    LOGOUT,
    /** A sign-in session was ended by an administrator, a disabled account or a replayed token. */
    SESSION_REVOKED,
    /** A person set their password (enrolment link) or enrolled their TOTP authenticator. */
    CREDENTIALS_ENROLLED,
    /** A user account was created. */
    USER_CREATED,
    /** A user account was disabled. */
    USER_DISABLED,
    /** A user's roles were changed. */
    ROLES_CHANGED,
    /** An administrator changed users, clients, roles or keys. */
    ADMIN_CHANGE,
    /** Audit events were exported (the export itself is audited). */
    EXPORTED,
    /** Emergency access to one patient was opened or closed early (always flagged break-glass). */
    BREAK_GLASS;

    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
