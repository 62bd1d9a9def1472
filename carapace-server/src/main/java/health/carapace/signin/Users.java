package health.carapace.signin;

import health.carapace.signin.internal.CallerChanges;
import health.carapace.access.Caller;
import health.carapace.access.RoleCatalog;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.platform.logging.SafeMessage;
import health.carapace.signin.internal.Sessions;
import health.carapace.signin.internal.SignInSettings;
import health.carapace.signin.internal.UserDirectory;
import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * People who sign in (authorization code + PKCE, password and TOTP). An account is created
 * without any password: the administrator gets a one-time enrolment link (256 random bits, only
 * a hash stored, single use, expiring) where the person sets a password; TOTP is enrolled at the
 * first sign-in. There are no default passwords and no other way in.
 */
@Service
public class Users {

    /** An administrative request refused; the message is ours and echoes no input. */
    public static final class Refused extends IllegalArgumentException implements SafeMessage {
        private static final long serialVersionUID = 1L;

        public Refused(String message) {
            super(message);
        }
    }

    /** A new account's enrolment link. The token exists only in this value. */
    public record Enrolment(String userName, String link, Instant expiresAt) {}

    /** An account as listed for administrators: no password hash, no seed, nothing secret. */
    public record Summary(String userName, Set<String> roles, String practitionerId, boolean disabled,
            boolean passwordSet, boolean mfaEnrolled, Instant createdAt) {}

    /** Role names as the policy directory spells them. */
    public static final Pattern ROLE_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,63}");
    private static final Pattern PRACTITIONER_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final JdbcClient jdbc;
    private final AuditTrail audit;
    private final TransactionTemplate transactions;
    private final Sessions sessions;
    private final SignInSettings settings;
    private final String issuer;
    private final RoleCatalog roleCatalog;
    /** Drops this node's cached callers when an account changes (the others hear it from PostgreSQL). */
    private final CallerChanges changes;
    /** Decides when an enrolment link expires. */
    private final Clock clock;

    Users(DataSource dataSource, AuditTrail audit, PlatformTransactionManager transactionManager, Sessions sessions,
            SignInSettings settings, @Value("${carapace.issuer}") String issuer, RoleCatalog roleCatalog, Clock clock,
            CallerChanges changes) {
        this.roleCatalog = roleCatalog;
        this.changes = changes;
        this.clock = clock;
        this.jdbc = JdbcClient.create(dataSource);
        this.audit = audit;
        this.transactions = new TransactionTemplate(transactionManager);
        this.sessions = sessions;
        this.settings = settings;
        this.issuer = issuer;
    }

    /** Creates an account without a password and returns its one-time enrolment link. */
    public Enrolment create(String userName, Set<String> roles, String practitionerId) {
        return create(userName, roles, practitionerId, commandLineOperator());
    }

    /** As {@link #create(String, Set, String)}, audited as done by {@code actor} (an administrator in the console). */
    public Enrolment create(String userName, Set<String> roles, String practitionerId, String actor) {
        String name = validName(userName);
        Set<String> validRoles = validRoles(roles);
        if (practitionerId != null && !PRACTITIONER_ID.matcher(practitionerId).matches()) {
            throw new Refused("a practitioner id is a FHIR id: letters, digits, '-' and '.', up to 64");
        }
        UUID id = UUID.randomUUID();
        byte[] token = new byte[32];
        RANDOM.nextBytes(token);
        String tokenText = Base64.getUrlEncoder().withoutPadding().encodeToString(token);
        Instant expiresAt = clock.instant().plus(settings.enrolmentLinkTtl());
        transactions.executeWithoutResult(status -> {
            if (jdbc.sql("select count(*) from iam.app_user where lower(user_name) = lower(?)").param(name)
                    .query(Long.class).single() > 0) {
                throw new Refused("a user with that name already exists");
            }
            jdbc.sql("insert into iam.app_user (id, user_name, roles, practitioner_id) values (?, ?, ?, ?)")
                    .params(id, name, validRoles.toArray(String[]::new), practitionerId)
                    .update();
            jdbc.sql("insert into iam.enrolment (token_hash, user_id, expires_at) values (?, ?, ?)")
                    .params(UserDirectory.hash(tokenText), id, Timestamp.from(expiresAt))
                    .update();
            audit.recordInTransaction(List.of(adminEvent(actor, AuditAction.USER_CREATED, name)));
        });
        return new Enrolment(name, issuer + "/login/enrol?token=" + tokenText, expiresAt);
    }

    /** Disables an account and ends its sessions: its tokens stop working on the next request. */
    public boolean disable(String userName) {
        return disable(userName, commandLineOperator());
    }

    /**
     * As {@link #disable(String)}, audited as done by {@code actor} (a privacy officer containing an
     * incident through the API), not by the operating-system account running the server.
     */
    public boolean disable(String userName, String actor) {
        Optional<UUID> id = idOf(userName);
        if (id.isEmpty()) {
            return false;
        }
        transactions.executeWithoutResult(status -> {
            jdbc.sql("update iam.app_user set disabled = true where id = ?").param(id.get()).update();
            changes.changedHere();
            sessions.revokeAll(id.get());
            audit.recordInTransaction(List.of(adminEvent(actor, AuditAction.USER_DISABLED, userName)));
        });
        return true;
    }

    /** Ends every session of a user (they must sign in again); how many were open. */
    public int revokeSessions(String userName) {
        return revokeSessions(userName, commandLineOperator());
    }

    /** As {@link #revokeSessions(String)}, audited as done by {@code actor}. */
    public int revokeSessions(String userName, String actor) {
        UUID id = idOf(userName).orElseThrow(() -> new IllegalArgumentException("no such user"));
        return transactions.execute(status -> {
            int revoked = sessions.revokeAll(id);
            audit.recordInTransaction(List.of(adminEvent(actor, AuditAction.SESSION_REVOKED, userName)));
            return revoked;
        });
    }

    /** Replaces a user's roles; effective on the user's next request (roles are read per request). */
    public void setRoles(String userName, Set<String> roles) {
        setRoles(userName, roles, commandLineOperator());
    }

    /** As {@link #setRoles(String, Set)}, audited as done by {@code actor}. */
    public void setRoles(String userName, Set<String> roles, String actor) {
        UUID id = idOf(userName).orElseThrow(() -> new IllegalArgumentException("no such user"));
        Set<String> validRoles = validRoles(roles);
        transactions.executeWithoutResult(status -> {
            jdbc.sql("update iam.app_user set roles = ? where id = ?").params(validRoles.toArray(String[]::new), id).update();
            changes.changedHere();
            audit.recordInTransaction(List.of(adminEvent(actor, AuditAction.ROLES_CHANGED, userName)));
        });
    }

    private static final String SUMMARY = "select user_name, roles, practitioner_id, disabled, password_hash is not null,"
            + " totp_sealed is not null, created_at from iam.app_user";

    private static Summary summary(java.sql.ResultSet rs, int row) throws java.sql.SQLException {
        return new Summary(rs.getString(1), Set.of((String[]) rs.getArray(2).getArray()), rs.getString(3),
                rs.getBoolean(4), rs.getBoolean(5), rs.getBoolean(6), rs.getTimestamp(7).toInstant());
    }

    /**
     * At most {@code limit} accounts in name order (case-insensitive) after the name {@code after}
     * (exclusive; null: from the first), those whose name starts with {@code prefix} if one is given.
     * A page costs the same however many accounts there are (the unique index on the lower-case name).
     */
    public List<Summary> page(String prefix, String after, int limit) {
        List<Object> args = new java.util.ArrayList<>();
        StringBuilder sql = new StringBuilder(SUMMARY + " where true");
        if (prefix != null && !prefix.isEmpty()) {
            sql.append(" and starts_with(lower(user_name), ?)");
            args.add(prefix.toLowerCase(java.util.Locale.ROOT));
        }
        if (after != null) {
            sql.append(" and lower(user_name) > ?");
            args.add(after.toLowerCase(java.util.Locale.ROOT));
        }
        sql.append(" order by lower(user_name) limit ").append(Math.max(1, Math.min(limit, 1_000)));
        return jdbc.sql(sql.toString()).params(args)
                .query(Users::summary)
                .list();
    }

    public List<Summary> list() {
        return jdbc.sql(SUMMARY + " order by lower(user_name)")
                .query(Users::summary)
                .list();
    }

    private Optional<UUID> idOf(String userName) {
        if (userName == null) {
            return Optional.empty();
        }
        return jdbc.sql("select id from iam.app_user where lower(user_name) = lower(?)").param(userName.strip())
                .query(UUID.class).optional();
    }

    private static String validName(String userName) {
        String name = userName == null ? "" : userName.strip();
        if (!Caller.USER_NAME.matcher(name).matches()) {
            throw new Refused("a user name is 2 to 64 letters, digits, '.', '_', '@' or '-'");
        }
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        // drill- is reserved: the incident module treats a drill-* principal's incidents as drills.
        if (lower.startsWith("svc-") || lower.startsWith("app-") || lower.startsWith("cli:") || lower.startsWith("drill-")) {
            throw new Refused("user names may not start with svc-, app-, cli: or drill-");
        }
        return name;
    }

    /** Role names must be well-formed and defined in the loaded policy directory. */
    private Set<String> validRoles(Set<String> roles) {
        if (roles == null || roles.isEmpty()) {
            throw new Refused("at least one --role is required");
        }
        Set<String> valid = new LinkedHashSet<>();
        for (String role : roles) {
            if (role == null || !ROLE_NAME.matcher(role).matches()) {
                throw new Refused("a role name is lower-case letters, digits, '_' or '-', up to 64");
            }
            if (!roleCatalog.isDefined(role)) {
                // Role names come from the policy, not from PHI: naming the defined ones helps the operator.
                throw new Refused("every role must be defined in the policy directory (carapace.access.policy-dir); "
                        + "defined: " + roleCatalog.roles().stream().map(RoleCatalog.RoleSummary::name).toList());
            }
            valid.add(role);
        }
        return valid;
    }

    /** The administrator of a command run on this machine: its operating-system account. */
    private static String commandLineOperator() {
        return "cli:" + System.getProperty("user.name", "unknown");
    }

    private static AuditEvent adminEvent(String actor, AuditAction action, String userName) {
        if (actor == null || actor.isBlank()) {
            throw new IllegalArgumentException("an administrative change names who made it");
        }
        return AuditEvent.now(actor, action,
                "/admin/users/" + safeName(userName), AuditContext.none(), true, null, null, null);
    }

    private static String safeName(String userName) {
        return userName != null && Caller.USER_NAME.matcher(userName.strip()).matches() ? userName.strip() : "*";
    }
}
