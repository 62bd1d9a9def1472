package health.carapace.access;

/** How the caller stands to the patient whose data a request touches. */
public enum PatientRelation {
    /** The data belongs to no patient (e.g. Practitioner, Organization). */
    NOT_PATIENT_DATA,
    /** CareTeam membership, Encounter participation or an explicit assignment. */
    CARE_RELATIONSHIP,
    /** No care relationship, but the caller holds open emergency access to this patient. */
    BREAK_GLASS,
    /** Neither. */
    NONE
}
