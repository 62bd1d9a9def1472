package health.carapace.access;

/** The FHIR interactions a permission can grant (FHIR R4 RESTful API names). */
public enum Interaction {
    READ, VREAD, SEARCH, HISTORY, CREATE, UPDATE, PATCH, DELETE
}
