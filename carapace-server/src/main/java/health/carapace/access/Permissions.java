package health.carapace.access;

/**
 * Names of the permissions that are not a FHIR interaction, for the callers of
 * {@link AccessPolicy#grants}. The full vocabulary, with the interactions and resource types each
 * permission opens, is the table in docs/ACCESS.md (one table in code checks against it).
 */
public final class Permissions {

    /** SSN identifiers are shown unmasked. */
    public static final String VIEW_SSN = "view:ssn";
    /** The role's own permissions reach patients without a care relationship. */
    public static final String VIEW_ALL_PATIENTS = "view:all_patients";
    /**
     * Groups of patients (FHIR Group): a Group names many patients, and its members are shown to
     * whoever may read it, so a role holding this needs {@link #VIEW_ALL_PATIENTS} (ADR 0027).
     */
    public static final String VIEW_GROUPS = "view:groups";
    /** Create, change and delete groups of patients; like {@link #VIEW_GROUPS}, only with {@link #VIEW_ALL_PATIENTS}. */
    public static final String EDIT_GROUPS = "edit:groups";
    /** Users, service clients and roles (admin API and CLI). */
    public static final String MANAGE_USERS = "manage:users";
    /** The audit trail: {@code /admin/audit/**} and the FHIR AuditEvent endpoint. */
    public static final String VIEW_AUDIT = "view:audit";
    /** Key administration: rotation and crypto-shredding. */
    public static final String MANAGE_KEYS = "manage:keys";
    /** The metrics scrape, {@code GET /admin/metrics} (key status and job progress, no patient data). */
    public static final String VIEW_METRICS = "view:metrics";
    /** Compliance reports, {@code GET /admin/compliance/**} (evidence about the system, no patient data). */
    public static final String VIEW_COMPLIANCE = "view:compliance";

    /** Incidents and detector settings, read only: {@code GET /admin/incidents/**} (references, no patient data). */
    public static final String VIEW_INCIDENTS = "view:incidents";
    /**
     * Incident response: acknowledge, contain, close, record a breach and its risk assessment; flag
     * patients (VIP, employee) and link principals to their own Patient for the detectors.
     */
    public static final String MANAGE_INCIDENTS = "manage:incidents";

    /** Category value of an imaging DocumentReference in {@link AccessRequest#category()}. */
    public static final String IMAGING_CATEGORY = "imaging";

    private Permissions() {
    }
}
