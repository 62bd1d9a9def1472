package health.carapace.backup.internal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.backup.BackupRefused;
import health.carapace.backup.ShreddingLedger;
import health.carapace.crypto.SystemSecrets;
import health.carapace.disposal.PatientShredded;
import health.carapace.disposal.Shredding;
import health.carapace.platform.config.RestoreGate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionPhase;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * Writes every approved crypto-shredding into the shredding ledger (ADR 0040, ADR 0046): a
 * {@code pending} line before the approval commits — if it cannot be written the approval fails and
 * is rolled back, so a shredding a later restore would not know of is not done (fail closed) — and,
 * matched by the request id, a {@code committed} line after it commits or a {@code rolled-back} line
 * after it rolls back (in this JVM only: nothing else knows it rolled back). A pending line left
 * without either (the node died in between) is applied by a restore; at the node's next start it is
 * confirmed if the database says approved or executed, and otherwise left pending: a request
 * refused or expired since does not prove that the approval rolled back, and a restore may have
 * applied it (s8 review M1). Every append records
 * the ledger's new head in the audit trail ({@link #HEAD_RECORDER}), the copy a restore checks the
 * ledger against. Without a configured ledger it does nothing, and a restore must be told so
 * explicitly. A restore's own finishing application neither writes lines nor creates a ledger key
 * (s7 review finding 9): it only reads the restored keyring's.
 */
@Component
class LedgerAppender {

    private static final Logger log = LoggerFactory.getLogger(LedgerAppender.class);
    private static final Set<String> APPROVED = Set.of("approved", "executed");

    private final Path ledger;
    private final Shredding shredding;
    private final AuditTrail audit;
    private final byte[] key;
    private final String installation;

    LedgerAppender(@Value("${carapace.backup.shredding-ledger:}") String ledger, Shredding shredding,
            SystemSecrets secrets, AuditTrail audit) {
        // A restore's finishing application runs on an older database: it confirms nothing, and it
        // must not make a ledger key the backup's keyring lacks (that would hide the restore's clear
        // "no ledger key" refusal and split the installation's keys).
        boolean configured = !ledger.isBlank() && !RestoreGate.finishingRestore();
        this.ledger = configured ? Path.of(ledger) : null;
        this.shredding = shredding;
        this.audit = audit;
        // Made at the first start, so that they are in the keyring (and in every backup) before any
        // line needs them: a restore verifies the ledger with the key the restored keyring holds.
        this.key = configured ? secrets.getOrCreate(ShreddingLedger.MAC_KEY_NAME, () -> random(32)) : null;
        this.installation = configured
                ? HexFormat.of().formatHex(secrets.getOrCreate(ShreddingLedger.INSTALLATION_NAME, () -> random(16)))
                : null;
        if (configured) {
            // An empty ledger says "nothing shredded here"; a missing one, that it was lost: restore
            // refuses the second. So the file exists from the first start on.
            try {
                ShreddingLedger.create(this.ledger);
            } catch (IOException e) {
                throw new IllegalStateException("carapace.backup.shredding-ledger cannot be created or written", e);
            }
        }
    }

    @TransactionalEventListener(phase = TransactionPhase.BEFORE_COMMIT)
    void pending(PatientShredded shredded) {
        if (ledger == null) {
            return;
        }
        // The approval's own transaction: its request is 'approved' here and nowhere else yet.
        Shredding.Request request = shredding.find(shredded.request())
                .filter(r -> r.state().equals("approved") && r.patient().equals(shredded.patient().toString()))
                .orElseThrow(() -> new IllegalStateException("The approved shredding request is not visible"));
        ShreddingLedger.Appended appended;
        try {
            appended = ShreddingLedger.append(ledger, key, installation, ShreddingLedger.PENDING, entry(request));
        } catch (IOException e) {
            throw new UncheckedIOException("The shredding ledger cannot be written; the approval is rolled back", e);
        } catch (BackupRefused refused) {
            throw new IllegalStateException("The shredding ledger does not authenticate; the approval is rolled back "
                    + "(restore the ledger from its off-host copy): " + refused.getMessage());
        }
        // In the approval's transaction: the head commits with it (or the next one records a later head).
        audit.recordInTransaction(events(appended));
    }

    @TransactionalEventListener(phase = TransactionPhase.AFTER_COMMIT)
    void committed(PatientShredded shredded) {
        if (ledger == null) {
            return;
        }
        try {
            confirm(shredded.request());
        } catch (RuntimeException | IOException e) {
            // The approval stands (it committed); the line is written at the next start.
            log.error("The shredding ledger's committed line for request {} could not be written; it is written at the "
                    + "node's next start", shredded.request(), e);
        }
    }

    @TransactionalEventListener(phase = TransactionPhase.AFTER_ROLLBACK)
    void rolledBack(PatientShredded shredded) {
        if (ledger == null) {
            return;
        }
        try {
            // The pending line's own entry: a request that rolled back has no decision to copy.
            for (ShreddingLedger.Entry entry : ShreddingLedger.read(ledger).verify(key, installation).unconfirmed()) {
                if (entry.request().equals(shredded.request())) {
                    appendAndRecord(ShreddingLedger.ROLLED_BACK, entry);
                }
            }
        } catch (RuntimeException | IOException e) {
            // Left pending, a restore applies it: the safe side (ADR 0046).
            log.error("The shredding ledger's rolled-back line for request {} could not be written; a restore "
                    + "applies the shredding", shredded.request(), e);
        }
    }

    /** Writes the outcome of pending lines whose outcome line is missing, as the database says it. */
    @EventListener(ApplicationReadyEvent.class)
    void confirmPending() {
        if (ledger == null) {
            return;
        }
        try {
            for (ShreddingLedger.Entry entry : ShreddingLedger.read(ledger).verify(key, installation).unconfirmed()) {
                Shredding.Request request = shredding.find(entry.request()).orElse(null);
                if (request != null && APPROVED.contains(request.state())) {
                    appendAndRecord(ShreddingLedger.COMMITTED, entry(request));
                }
                // Anything else is left pending, which a restore applies: 'pending' (another node may be
                // approving it now), unknown, and also 'refused' or 'expired': the database's later
                // decision does not prove this approval rolled back (s8 review M1). Only this JVM's
                // AFTER_ROLLBACK writes rolled-back.
            }
        } catch (RuntimeException | IOException e) {
            log.error("The shredding ledger's pending lines could not be confirmed", e);
        }
    }

    private void confirm(java.util.UUID id) throws IOException {
        Shredding.Request request = shredding.find(id).orElse(null);
        if (request != null && APPROVED.contains(request.state())) {
            appendAndRecord(ShreddingLedger.COMMITTED, entry(request));
        }
    }

    private void appendAndRecord(String state, ShreddingLedger.Entry entry) throws IOException {
        ShreddingLedger.Appended appended = ShreddingLedger.append(ledger, key, installation, state, entry);
        try {
            audit.record(events(appended));
        } catch (RuntimeException e) {
            // The line is on disk; the anchor lags by one line until the next append records its head.
            log.warn("The shredding ledger's head {} could not be recorded in the audit trail", appended.head().seq(), e);
        }
    }

    private List<AuditEvent> events(ShreddingLedger.Appended appended) {
        AuditEvent head = AuditEvent.now(ShreddingLedger.HEAD_RECORDER, AuditAction.ADMIN_CHANGE, appended.head().resource(),
                AuditContext.none(), true, null, null, null);
        if (appended.tornBytesSkipped() == 0) {
            return List.of(head);
        }
        // A write cut off by a crash or a full disk, never forced: its approval never committed. It
        // stays in the file; the new line names its hash.
        log.warn("The shredding ledger {} ended in a torn line ({} bytes, a write a crash or a full disk cut off); line "
                + "{} skips it and names its hash", ledger.getFileName(), appended.tornBytesSkipped(), appended.head().seq());
        return List.of(AuditEvent.now(ShreddingLedger.HEAD_RECORDER, AuditAction.ADMIN_CHANGE, "/backup/shredding-ledger/"
                + appended.head().ledger() + "/torn-line-skipped/" + appended.tornBytesSkipped(), AuditContext.none(), true,
                null, null, null), head);
    }

    private static ShreddingLedger.Entry entry(Shredding.Request request) {
        return new ShreddingLedger.Entry(request.patient(), request.id(), request.decidedAt(), request.requestedBy(),
                request.decidedBy());
    }

    private static byte[] random(int bytes) {
        byte[] fresh = new byte[bytes];
        new SecureRandom().nextBytes(fresh);
        return fresh;
    }
}
