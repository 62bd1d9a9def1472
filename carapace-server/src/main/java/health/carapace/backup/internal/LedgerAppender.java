package health.carapace.backup.internal;

import health.carapace.backup.ShreddingLedger;
import health.carapace.disposal.PatientShredded;
import health.carapace.disposal.Shredding;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionPhase;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * Writes every approved crypto-shredding into the shredding ledger before the approval commits.
 * If the line cannot be written the approval fails and is rolled back: a shredding that a later
 * restore would not know of is not done (fail closed). Without a configured ledger it does nothing,
 * and a restore must be told so explicitly (ADR 0033).
 */
@Component
class LedgerAppender {

    private final Path ledger;
    private final Shredding shredding;

    LedgerAppender(@Value("${carapace.backup.shredding-ledger:}") String ledger, Shredding shredding) {
        this.ledger = ledger.isBlank() ? null : Path.of(ledger);
        this.shredding = shredding;
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
    void record(PatientShredded shredded) {
        if (ledger == null) {
            return;
        }
        String compartment = shredded.patient().toString();
        // The approval's own transaction: its request is 'approved' here and nowhere else yet.
        Shredding.Request request = shredding.list().stream()
                .filter(r -> r.patient().equals(compartment) && r.state().equals("approved"))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("The approved shredding request is not visible"));
        try {
            ShreddingLedger.append(ledger, new ShreddingLedger.Entry(compartment, request.id(), request.decidedAt(),
                    request.requestedBy(), request.decidedBy()));
        } catch (IOException e) {
            throw new UncheckedIOException("The shredding ledger cannot be written; the approval is rolled back", e);
        }
    }
}
