package health.carapace.records;

import health.carapace.access.Caller;
import java.net.InetAddress;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;

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
     * What a Group-level export finds for a group id: the group's members, or why there are none
     * to export. A group the caller may not read is refused before it is looked up, so the answer
     * never confirms that it exists.
     */
    sealed interface GroupLookup {
        /** An enumerated group of patients ({@code actual}) and its active members in compartment order. */
        record Found(boolean actual, List<Compartment> members) implements GroupLookup {}

        /** No current Group has this id. */
        record Missing() implements GroupLookup {}

        /** The caller may not read groups (the policy's reason code). */
        record Refused(String reason) implements GroupLookup {}
    }

    /**
     * The members of a Group as the caller may read it now (roles, then the app's scopes; a Group
     * is in the shared compartment). Metadata decided first; the Group is decrypted only when the
     * caller may read it. The caller audits the read.
     */
    GroupLookup group(Caller caller, InetAddress address, Instant at, java.util.UUID groupId);

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
    default int export(Caller caller, InetAddress address, Instant at, Compartment patient, Set<String> types,
            Instant since, String jobReference, Consumer<Exported> sink) {
        return export(caller, address, at, patient, types, since, List.of(), jobReference, sink);
    }

    /**
     * {@link #export(Caller, InetAddress, Instant, Compartment, Set, Instant, String, Consumer)} with
     * {@code _typeFilter}s: a record of a type that has filters is handed out only if one of them
     * (ORed) selects it, as the search would; types without a filter are not narrowed.
     */
    int export(Caller caller, InetAddress address, Instant at, Compartment patient, Set<String> types, Instant since,
            List<TypeFilter> filters, String jobReference, Consumer<Exported> sink);

    /**
     * The export of a part: {@link #export(Caller, InetAddress, Instant, Compartment, Set, Instant, List, String,
     * Consumer)} for each of {@code patients} that {@code proceed} lets through (asked just before the
     * patient), except that the patients' audit events may be recorded together, durably, when the
     * part is done rather than one patient at a time — before this returns, and never after: what
     * {@code sink} was handed must not leave the server before this returned normally (the export
     * worker writes it to files that become downloadable only when it commits the part afterwards).
     * If the audit cannot be written this throws and the part must be discarded.
     *
     * @return how many resources were handed out
     */
    default int exportPart(Caller caller, InetAddress address, Instant at, List<Compartment> patients,
            Set<String> types, Instant since, List<TypeFilter> filters, String jobReference,
            Predicate<Compartment> proceed, Consumer<Exported> sink) {
        int handed = 0;
        for (Compartment patient : patients) {
            if (proceed.test(patient)) {
                handed += export(caller, address, at, patient, types, since, filters, jobReference, sink);
            }
        }
        return handed;
    }

    /**
     * A Bulk Data {@code _typeFilter}: a search over one type's records as the client wrote it
     * ({@code Observation?code=...}). Its values are search values, so PHI: never logged or stored
     * in clear.
     */
    record TypeFilter(String type, Map<String, List<String>> parameters) {
        public TypeFilter {
            parameters = Map.copyOf(parameters);
        }
    }

    /**
     * Why a filter cannot be served, as a message that names the parameters the type can use and
     * never a value; empty when the search can select by it (ADR 0027).
     */
    java.util.Optional<String> refusal(TypeFilter filter);
}
