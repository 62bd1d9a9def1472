package health.carapace.audit;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * One audited action. Holds references only: a patient reference ({@code Patient/<uuid>}), a
 * request path without its query string, the caller's identity, never names, identifiers or
 * search values in clear (a search's query travels as ciphertext under the audit key).
 *
 * @param user the authenticated principal (service client id or user name), or "anonymous"
 * @param resource the request path, e.g. {@code /fhir/Patient/<uuid>}; never a query string
 * @param patient the patient whose data this concerns, or null
 * @param purposeOfUse the declared purpose of use (HL7 v3 PurposeOfUse code), or null
 * @param encryptedQuery the search query encrypted under the audit key, or null
 * @param reason for a refusal, the policy's stable PHI-free code (e.g. {@code no-care-relationship}), or null
 */
public record AuditEvent(UUID id, Instant timestamp, String user, AuditAction action, String resource,
        AuditContext context, boolean success, String patient, String purposeOfUse, String requestId,
        boolean breakGlass, byte[] encryptedQuery, String reason) {

    private static final java.util.regex.Pattern REASON = java.util.regex.Pattern.compile("[a-z][a-z0-9:_-]{0,63}");

    /** An event without a refusal reason. */
    public AuditEvent(UUID id, Instant timestamp, String user, AuditAction action, String resource,
            AuditContext context, boolean success, String patient, String purposeOfUse, String requestId,
            boolean breakGlass, byte[] encryptedQuery) {
        this(id, timestamp, user, action, resource, context, success, patient, purposeOfUse, requestId, breakGlass,
                encryptedQuery, null);
    }

    /** An event happening now, with a fresh id, outside any break-glass and without a query. */
    public static AuditEvent now(String user, AuditAction action, String resource, AuditContext context,
            boolean success, String patient, String purposeOfUse, String requestId) {
        return new AuditEvent(UUID.randomUUID(), Instant.now(), user, action, resource, context, success, patient,
                purposeOfUse, requestId, false, null);
    }

    public AuditEvent {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(resource, "resource");
        Objects.requireNonNull(context, "context");
        if (resource.contains("?")) {
            throw new IllegalArgumentException("audit resources are paths; queries are stored encrypted");
        }
        if (reason != null && !REASON.matcher(reason).matches()) {
            // a reason is a code from the policy, never free text that could carry PHI
            throw new IllegalArgumentException("audit reasons are short lower-case codes");
        }
    }
}
