package health.carapace.backup.internal;

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
 * Writes every approved crypto-shredding into the shredding ledger (ADR 0040): a {@code pending}
 * line before the approval commits — if it cannot be written the approval fails and is rolled
 * back, so a shredding a later restore would not know of is not done (fail closed) — and a
 * {@code committed} line after it commits, matched by the request id. A restore applies only
 * committed shreddings, so one whose commit failed (a failover, a serialization failure) is never
 * applied. A committed line that could not be written (the node stopped just after the commit) is
 * written at the node's next start, once the database confirms the approval. Without a configured
 * ledger it does nothing, and a restore must be told so explicitly.
 */
@Component
class LedgerAppender {

    private static final Logger log = LoggerFactory.getLogger(LedgerAppender.class);
    private static final Set<String> APPROVED = Set.of("approved", "executed");

    private final Path ledger;
    private final Shredding shredding;
    private final byte[] key;
    private final boolean finishingRestore;

    LedgerAppender(@Value("${carapace.backup.shredding-ledger:}") String ledger, Shredding shredding,
            SystemSecrets secrets) {
        this.ledger = ledger.isBlank() ? null : Path.of(ledger);
        this.shredding = shredding;
        this.finishingRestore = RestoreGate.finishingRestore();
        // Made at the first start, so that it is in the keyring (and in every backup) before any
        // line needs it: a restore verifies the ledger with the key the restored keyring holds.
        this.key = this.ledger == null ? null : secrets.getOrCreate(ShreddingLedger.MAC_KEY_NAME, () -> {
            byte[] fresh = new byte[32];
            new SecureRandom().nextBytes(fresh);
            return fresh;
        });
        if (this.ledger != null) {
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
        try {
            ShreddingLedger.append(ledger, key, ShreddingLedger.PENDING, entry(request));
        } catch (IOException e) {
            throw new UncheckedIOException("The shredding ledger cannot be written; the approval is rolled back", e);
        } catch (BackupRefused refused) {
            throw new IllegalStateException("The shredding ledger does not authenticate; the approval is rolled back "
                    + "(restore the ledger from its off-host copy): " + refused.getMessage());
        }
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

    /** Confirms pending lines whose approval committed but whose committed line is missing. */
    @EventListener(ApplicationReadyEvent.class)
    void confirmPending() {
        // A restore's own application runs on an older database that cannot confirm anything later.
        if (ledger == null || finishingRestore) {
            return;
        }
        try {
            for (ShreddingLedger.Entry entry : ShreddingLedger.read(ledger).verify(key).unconfirmed()) {
                confirm(entry.request());
            }
        } catch (RuntimeException | IOException e) {
            log.error("The shredding ledger's pending lines could not be confirmed", e);
        }
    }

    private void confirm(java.util.UUID id) throws IOException {
        Shredding.Request request = shredding.find(id).orElse(null);
        if (request != null && APPROVED.contains(request.state())) {
            ShreddingLedger.append(ledger, key, ShreddingLedger.COMMITTED, entry(request));
        }
    }

    private static ShreddingLedger.Entry entry(Shredding.Request request) {
        return new ShreddingLedger.Entry(request.patient(), request.id(), request.decidedAt(), request.requestedBy(),
                request.decidedBy());
    }
}
