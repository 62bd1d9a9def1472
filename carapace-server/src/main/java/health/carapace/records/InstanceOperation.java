package health.carapace.records;

import health.carapace.access.Caller;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Resource;

/**
 * An operation on one stored record that another module serves through the FHIR endpoint, at
 * {@code POST /fhir/{resourceType}/{id}/{name}} (telehealth's {@code $start-visit} on an
 * Appointment). Records keeps the record's rules: before the operation runs, the caller must be
 * allowed to read the record (its compartment, care relationship or break-glass, decided and
 * audited like a read); the operation gets the record as the same decrypting read returns it, and
 * that read is audited as a view before the response leaves. What the operation writes through
 * {@link Target#create} is decided, encrypted and audited like any FHIR create, in the caller's
 * transaction when there is one (so an operation can commit its own rows with it).
 *
 * <p>Implementations are Spring beans; records registers every one at startup. An operation name
 * is {@code $} and lower-case letters and dashes.
 */
public interface InstanceOperation {

    /** The resource type the operation is on, e.g. {@code Appointment}. */
    String resourceType();

    /** The operation's name with its {@code $}, e.g. {@code $start-visit}. */
    String name();

    /**
     * Runs the operation on a record the caller may read. Refusals are {@link Refused} (a 4xx
     * OperationOutcome with the given status and fixed message, nothing of the request echoed).
     */
    Parameters invoke(Target target);

    /** The record an operation runs on, and what it may do with the records module. */
    interface Target {

        /** The record's current version, decrypted. */
        Resource resource();

        /** The patient whose compartment the record is in ({@code Patient/<id>}), or null. */
        String patient();

        /** Who asked. */
        Caller caller();

        /** Stores a new record as {@code POST /fhir/{type}} would: decided, encrypted, audited. */
        Resource create(Resource resource);
    }

    /** A refusal of the operation: the HTTP status and a fixed, PHI-free message. */
    final class Refused extends RuntimeException {
        private final int status;

        public Refused(int status, String message) {
            super(message, null, false, false);
            if (status < 400 || status > 499) {
                throw new IllegalArgumentException("a refusal is a 4xx");
            }
            this.status = status;
        }

        public int status() {
            return status;
        }
    }
}
