package health.carapace.records.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The resource types Carapace serves, and for each clinical type the element that puts it in a
 * patient's compartment (and so under that patient's data key).
 */
final class ResourceTypes {

    /** Resource type → element naming the patient; absent for non-patient types. */
    private static final Map<String, String> PATIENT_LINK = new LinkedHashMap<>();

    static {
        PATIENT_LINK.put("Patient", null);
        PATIENT_LINK.put("Practitioner", null);
        PATIENT_LINK.put("Organization", null);
        PATIENT_LINK.put("Encounter", "subject");
        PATIENT_LINK.put("Observation", "subject");
        PATIENT_LINK.put("Condition", "subject");
        PATIENT_LINK.put("AllergyIntolerance", "patient");
        PATIENT_LINK.put("MedicationRequest", "subject");
        PATIENT_LINK.put("Procedure", "subject");
        PATIENT_LINK.put("DiagnosticReport", "subject");
        PATIENT_LINK.put("ImagingStudy", "subject");
        PATIENT_LINK.put("DocumentReference", "subject");
        PATIENT_LINK.put("Immunization", "patient");
        PATIENT_LINK.put("CarePlan", "subject");
        PATIENT_LINK.put("CareTeam", "subject");
    }

    private ResourceTypes() {
    }

    static Set<String> names() {
        return PATIENT_LINK.keySet();
    }

    /** The element that references the patient, for clinical types. */
    static Optional<String> patientLink(String type) {
        return Optional.ofNullable(PATIENT_LINK.get(type));
    }
}
