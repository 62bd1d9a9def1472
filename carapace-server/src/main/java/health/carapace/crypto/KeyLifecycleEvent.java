package health.carapace.crypto;

/**
 * A key changed: a rotation started or finished, a version was activated or retired, old data
 * keys were destroyed. Published synchronously so that the audit module records it before the
 * change goes on (fail closed: if the audit record cannot be written, the step fails). Carries
 * references only, never key material or PHI.
 *
 * @param actor who caused it ({@code cli:<user>}, or {@code system:key-jobs} for the background jobs)
 * @param resource what changed, as a path, e.g. {@code /keys/kek/v2/activated}
 * @param patient the patient reference for a one-patient DEK rotation, else null
 */
public record KeyLifecycleEvent(String actor, String resource, String patient) {
}
