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

    /** Appointment has no subject: the patient is the first participant.actor naming a Patient. */
    private static final String APPOINTMENT_PATIENT = "participant.actor";

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
        // A visit (telehealth): its patient is the participant whose actor is a Patient.
        PATIENT_LINK.put("Appointment", APPOINTMENT_PATIENT);
        // The base types of the US Core profiles (issue 17): adding a type is a row here, a row in
        // the permission vocabulary (access) and its search parameters in SearchCatalog.
        PATIENT_LINK.put("Location", null);
        PATIENT_LINK.put("PractitionerRole", null);
        PATIENT_LINK.put("Medication", null);
        PATIENT_LINK.put("Questionnaire", null);
        PATIENT_LINK.put("RelatedPerson", "patient");
        PATIENT_LINK.put("Coverage", "beneficiary");
        PATIENT_LINK.put("Goal", "subject");
        PATIENT_LINK.put("ServiceRequest", "subject");
        PATIENT_LINK.put("MedicationAdministration", "subject");
        PATIENT_LINK.put("MedicationDispense", "subject");
        PATIENT_LINK.put("Device", "patient");
        PATIENT_LINK.put("Specimen", "subject");
        PATIENT_LINK.put("QuestionnaireResponse", "subject");
        // Provenance names what it is about in target (many references): its patient is the
        // first target that is a Patient, as in FHIR's Patient compartment.
        PATIENT_LINK.put("Provenance", "target");
        // A group of patients names many of them, so it is in no one patient's compartment: it is
        // read whole by roles that reach every patient (ADR 0027, PatientGroups).
        PATIENT_LINK.put("Group", null);
    }

    /**
     * The patient-linked types whose link may be absent, each with the reason: such a record is
     * then in the shared compartment. Every other type with a patient link must name a Patient
     * (else the write is refused), so that no patient's record lands where any holder of the
     * type's permission may read it without a care relationship.
     */
    private static final Map<String, String> POSSIBLY_SHARED = Map.of(
            "Device", "a device in stock, on a ward or in a lab is assigned to no patient");


    private ResourceTypes() {
    }

    static Set<String> names() {
        return PATIENT_LINK.keySet();
    }

    /**
     * The reference that puts {@code resource} in a patient's compartment (its patient link's
     * first value; for an Appointment, the first participant actor that is a Patient), if any.
     */
    static Optional<org.hl7.fhir.r4.model.Reference> patientReference(org.hl7.fhir.r4.model.Resource resource) {
        String link = PATIENT_LINK.get(resource.fhirType());
        if (link == null) {
            return Optional.empty();
        }
        if (resource instanceof org.hl7.fhir.r4.model.Appointment appointment) {
            return firstPatient(appointment.getParticipant().stream()
                    .map(org.hl7.fhir.r4.model.Appointment.AppointmentParticipantComponent::getActor));
        }
        var property = resource.getNamedProperty(link);
        if (property == null || !property.hasValues()) {
            return Optional.empty();
        }
        if (property.isList()) {
            // a repeating element (Provenance.target): the first value naming a Patient
            return firstPatient(property.getValues().stream()
                    .filter(org.hl7.fhir.r4.model.Reference.class::isInstance)
                    .map(org.hl7.fhir.r4.model.Reference.class::cast));
        }
        return Optional.of((org.hl7.fhir.r4.model.Reference) property.getValues().get(0));
    }

    private static Optional<org.hl7.fhir.r4.model.Reference> firstPatient(
            java.util.stream.Stream<org.hl7.fhir.r4.model.Reference> references) {
        return references
                .filter(actor -> actor.hasReference() && "Patient".equals(actor.getReferenceElement().getResourceType()))
                .findFirst();
    }

    /** Whether a record of this patient-linked type may name no patient (and so be shared). */
    static boolean mayBeShared(String type) {
        return POSSIBLY_SHARED.containsKey(type);
    }

    /** The element that references the patient, for clinical types. */
    static Optional<String> patientLink(String type) {
        return Optional.ofNullable(PATIENT_LINK.get(type));
    }
}
