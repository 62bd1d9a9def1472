package health.carapace.signin;

import health.carapace.access.Caller;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * When a person's access must end (end of employment or contract; HIPAA §164.308(a)(3)(ii)(C),
 * and the proposed rule's "within one hour"). An administrator records the date; the server
 * disables the account once it has passed (checked every few minutes, see
 * {@code signin.internal.AccessEndEnforcement}), and the compliance report flags any account still
 * enabled more than an hour past it.
 */
@Service
public class AccessEndDates {

    private final JdbcClient jdbc;
    private final AuditTrail audit;
    private final TransactionTemplate transactions;

    AccessEndDates(DataSource dataSource, AuditTrail audit, PlatformTransactionManager transactionManager) {
        this.jdbc = JdbcClient.create(dataSource);
        this.audit = audit;
        this.transactions = new TransactionTemplate(transactionManager);
    }

    /**
     * Sets (or, with null, clears) the end of a user's access; audited.
     *
     * @return false if there is no such user
     */
    public boolean set(String userName, Instant endsAt, String actor) {
        if (userName == null || !Caller.USER_NAME.matcher(userName.strip()).matches()) {
            return false;
        }
        String name = userName.strip();
        Boolean changed = transactions.execute(status -> {
            int rows = jdbc.sql("update iam.app_user set access_ends_at = ? where lower(user_name) = lower(?)")
                    .params(endsAt == null ? null : Timestamp.from(endsAt), name)
                    .update();
            if (rows == 0) {
                return false;
            }
            audit.recordInTransaction(List.of(AuditEvent.now(actor, AuditAction.ADMIN_CHANGE,
                    "/admin/users/" + name + "/access-end", AuditContext.none(), true, null, null, null)));
            return true;
        });
        return Boolean.TRUE.equals(changed);
    }
}
