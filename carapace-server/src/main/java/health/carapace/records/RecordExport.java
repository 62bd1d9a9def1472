package health.carapace.records;

import health.carapace.access.Caller;
import java.net.InetAddress;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Bulk reading for population export (Bulk Data {@code $export}, issue #18), the one door through
 * which another module gets decrypted records: every resource handed out was decided by the access
 * policy for the caller (roles, then the app's scopes), its patient's export was audited (durable
 * before the first resource leaves), it was decrypted with its identity as associated data, and
 * SSNs are masked for a caller without {@code view:ssn}. Nothing is held in memory beyond one
 * batch of rows.
 */
public interface RecordExport {

    /** One resource: its type, its patient compartment, and its JSON on one line (no line break). */
    record Exported(String type, Compartment patient, byte[] json) {

        /** The type of the lines that report records left out (Bulk Data: the manifest's {@code error} files). */
        public static final String ERROR_TYPE = "OperationOutcome";

        /** Whether this line reports a record left out rather than carrying one. */
        public boolean isError() {
            return ERROR_TYPE.equals(type);
        }
    }

    /**
     * The patients, in a stable order, whose compartments hold at least one current record: the
     * candidates of a system-level export, {@code limit} at a time after {@code after} (null: from
     * the start). Metadata only; each is decided when exported.
     */
    List<Compartment> patients(Compartment after, int limit);

    /**
     * Exports one patient's current records of {@code types} (empty: every type) last updated
     * after {@code since} (null: all): audits the export of this patient as the caller, then hands
     * each resource the policy lets the caller search to {@code sink}, in type and id order. A record
     * that fails its integrity check (altered or moved ciphertext) is left out, audited as a failed
     * read (reason {@code integrity-check-failed}), and reported to {@code sink} as one
     * {@link Exported#ERROR_TYPE} line that names its type only: no id, no patient, no content.
     *
     * @param jobReference a reference to the export, recorded as the audit event's request id
     * @return how many resources were handed out
     */
    int export(Caller caller, InetAddress address, Instant at, Compartment patient, Set<String> types, Instant since,
            String jobReference, Consumer<Exported> sink);
}
