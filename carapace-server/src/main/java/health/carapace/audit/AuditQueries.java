package health.carapace.audit;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Reads the audit trail for investigators (holders of {@code view:audit}). Search queries come
 * back decrypted: that is what the audit key is for. Callers must audit their own reads.
 */
public interface AuditQueries {

    /** One stored event, as recorded. {@code query} is the decrypted search query, or null. */
    record StoredEvent(UUID id, Instant timestamp, String user, String action, String resource, AuditContext context,
            boolean success, String patient, String purposeOfUse, String requestId, boolean breakGlass, String query,
            String reason) {

        public StoredEvent(UUID id, Instant timestamp, String user, String action, String resource, AuditContext context,
                boolean success, String patient, String purposeOfUse, String requestId, boolean breakGlass, String query) {
            this(id, timestamp, user, action, resource, context, success, patient, purposeOfUse, requestId, breakGlass,
                    query, null);
        }
    }

    /**
     * Criteria; null means "any". {@code from} inclusive, {@code to} exclusive.
     *
     * @param limit at most this many events, newest first
     */
    record Criteria(String patient, String user, Instant from, Instant to, List<String> actions, Boolean success,
            int limit) {}

    List<StoredEvent> search(Criteria criteria);

    /** A page of {@link #page}: its events, newest first, and the position of the next page (null: no more). */
    record Page(List<StoredEvent> events, String next) {}

    /**
     * At most {@code criteria.limit()} events matching the criteria, newest first, after the
     * position {@code after} (a previous page's {@link Page#next}; null for the first page). Keyset
     * paging on the indexed {@code (recorded_at, id)}: a deep page costs what the first one does.
     *
     * @throws IllegalArgumentException if {@code after} is not a position this method handed out
     */
    Page page(Criteria criteria, String after);

    /**
     * The accounting of disclosures for one patient (HIPAA §164.528): every successful access to
     * or change of the patient's records since {@code since}, oldest first.
     */
    List<StoredEvent> disclosures(String patient, Instant since);

    /**
     * The same accounting as a page shows it: the {@code newest} most recent disclosures, newest
     * first. A patient in long care has thousands; the whole accounting is {@link #disclosures} (the
     * CSV and the API).
     */
    List<StoredEvent> recentDisclosures(String patient, Instant since, int newest);

    /**
     * What one principal did successfully since {@code since}, without the events themselves: each
     * distinct action with the first two segments of its resource path ({@code fhir}, {@code Patient}).
     * For access reviews (which permissions were used). Not per patient: a service client that
     * touched a million patients would make millions of rows (issue 13: that reading ran the
     * server out of heap at 1,000,000 patients); {@link #actedOutside} answers the patient question.
     */
    List<Usage> usage(String user, Instant since);

    /**
     * Whether one principal's successful actions on FHIR records since {@code since} (those
     * {@link #usage} reports with area {@code fhir} and a resource type other than the audit trail's,
     * exports aside) concerned a patient not in {@code patients}. Stops at the first such event.
     */
    boolean actedOutside(String user, Instant since, java.util.Collection<String> patients);

    /** One distinct kind of successful action by a principal. */
    record Usage(String action, String area, String type) {}
}
