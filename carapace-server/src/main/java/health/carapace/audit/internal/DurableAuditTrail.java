package health.carapace.audit.internal;

import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.crypto.RecordCipher;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.springframework.dao.DataAccessException;

/** The audit trail: group-committed appends for reads, in-transaction appends for writes. */
final class DurableAuditTrail implements AuditTrail {

    /** Search queries are encrypted under a key of their own, kept in the keyring like any DEK. */
    static final String QUERY_KEY = "audit-queries";

    private final GroupCommitAppender appender;
    private final AuditLog auditLog;
    private final RecordCipher cipher;

    DurableAuditTrail(GroupCommitAppender appender, AuditLog auditLog, RecordCipher cipher) {
        this.appender = appender;
        this.auditLog = auditLog;
        this.cipher = cipher;
    }

    @Override
    public void record(List<AuditEvent> events) {
        if (!events.isEmpty()) {
            appender.append(events);
        }
    }

    @Override
    public void recordInTransaction(List<AuditEvent> events) {
        if (events.isEmpty()) {
            return;
        }
        try {
            auditLog.insert(events);
        } catch (DataAccessException e) {
            throw new AuditUnavailableException("The audit trail could not record a change", e);
        }
    }

    @Override
    public byte[] encryptQuery(UUID eventId, String query) {
        return cipher.encrypt(QUERY_KEY, query.getBytes(StandardCharsets.UTF_8),
                ("audit-query/" + eventId).getBytes(StandardCharsets.UTF_8));
    }
}
