package health.carapace.records.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * The references {@code _include} follows and {@code _revinclude} reverses, in one table: per
 * source type, the search parameter's name, the element path that holds the references and the
 * served types they may point to. {@link Inclusions} and the CapabilityStatement read it, so what
 * the server lists is what it follows. Adding a reference is a row, not a code path.
 *
 * <p>A reverse include is served only where the reference is the record's patient link (its
 * compartment, a metadata column): {@code Observation:patient} on a Patient search. Reversing
 * any other reference would mean decrypting every record of the source type.
 */
final class IncludeCatalog {

    /** One includable reference: {@code source:name} follows {@code path} to one of {@code targets}. */
    record Ref(String source, String name, String path, Set<String> targets) {

        /** Whether the reference is the source's patient link, so it can be reversed from metadata. */
        boolean reversible() {
            return targets.contains("Patient") && ResourceTypes.patientLink(source).map(path::equals).orElse(false);
        }

        /** The references of {@code resource} at this path that name a served target type. */
        List<Reference> references(Resource resource) {
            List<Base> values = List.of(resource);
            for (String segment : path.split("\\.")) {
                List<Base> next = new ArrayList<>();
                for (Base value : values) {
                    var property = value.getNamedProperty(segment);
                    if (property != null) {
                        next.addAll(property.getValues());
                    }
                }
                values = next;
            }
            List<Reference> references = new ArrayList<>();
            for (Base value : values) {
                if (value instanceof Reference reference && reference.hasReference()
                        && targets.contains(reference.getReferenceElement().getResourceType())) {
                    references.add(reference);
                }
            }
            return references;
        }

        String value() {
            return source + ":" + name;
        }
    }

    private static final Set<String> PEOPLE = Set.of("Practitioner", "PractitionerRole", "Organization", "Patient",
            "RelatedPerson");
    private static final Set<String> STAFF = Set.of("Practitioner", "PractitionerRole", "Organization");
    private static final Map<String, Map<String, Ref>> BY_SOURCE = new LinkedHashMap<>();

    static {
        for (String type : ResourceTypes.names()) {
            BY_SOURCE.put(type, new LinkedHashMap<>());
            ResourceTypes.patientLink(type).ifPresent(link -> {
                add(type, "patient", link, "Patient");
                add(type, "subject", link, "Patient");
            });
        }
        add("Patient", "general-practitioner", "generalPractitioner", STAFF);
        add("Patient", "organization", "managingOrganization", "Organization");
        add("Patient", "link", "link.other", "Patient", "RelatedPerson");
        add("Encounter", "practitioner", "participant.individual", "Practitioner", "PractitionerRole");
        add("Encounter", "service-provider", "serviceProvider", "Organization");
        add("Encounter", "location", "location.location", "Location");
        add("Observation", "performer", "performer", union(PEOPLE, Set.of("CareTeam")));
        add("Observation", "encounter", "encounter", "Encounter");
        add("Observation", "specimen", "specimen", "Specimen");
        add("Observation", "device", "device", "Device");
        add("Condition", "encounter", "encounter", "Encounter");
        add("Condition", "asserter", "asserter", PEOPLE);
        add("AllergyIntolerance", "recorder", "recorder", PEOPLE);
        add("MedicationRequest", "requester", "requester", union(PEOPLE, Set.of("Device")));
        add("MedicationRequest", "medication", "medication", "Medication");
        add("MedicationRequest", "encounter", "encounter", "Encounter");
        add("MedicationAdministration", "medication", "medication", "Medication");
        add("MedicationAdministration", "performer", "performer.actor", union(PEOPLE, Set.of("Device")));
        add("MedicationAdministration", "request", "request", "MedicationRequest");
        add("MedicationDispense", "medication", "medication", "Medication");
        add("MedicationDispense", "performer", "performer.actor", union(PEOPLE, Set.of("Device")));
        add("MedicationDispense", "prescription", "authorizingPrescription", "MedicationRequest");
        add("Procedure", "performer", "performer.actor", union(PEOPLE, Set.of("Device")));
        add("Procedure", "encounter", "encounter", "Encounter");
        add("DiagnosticReport", "result", "result", "Observation");
        add("DiagnosticReport", "performer", "performer", union(STAFF, Set.of("CareTeam")));
        add("DiagnosticReport", "encounter", "encounter", "Encounter");
        add("DiagnosticReport", "specimen", "specimen", "Specimen");
        add("Immunization", "performer", "performer.actor", STAFF);
        add("CarePlan", "care-team", "careTeam", "CareTeam");
        add("CarePlan", "encounter", "encounter", "Encounter");
        add("CareTeam", "participant", "participant.member", union(PEOPLE, Set.of("CareTeam")));
        add("DocumentReference", "author", "author", union(PEOPLE, Set.of("Device")));
        add("DocumentReference", "encounter", "context.encounter", "Encounter");
        add("ImagingStudy", "encounter", "encounter", "Encounter");
        add("Appointment", "actor", "participant.actor", union(PEOPLE, Set.of("Device", "Location")));
        add("PractitionerRole", "practitioner", "practitioner", "Practitioner");
        add("PractitionerRole", "organization", "organization", "Organization");
        add("PractitionerRole", "location", "location", "Location");
        add("Organization", "partof", "partOf", "Organization");
        add("Location", "organization", "managingOrganization", "Organization");
        add("ServiceRequest", "requester", "requester", union(PEOPLE, Set.of("Device")));
        add("ServiceRequest", "performer", "performer", union(PEOPLE, Set.of("CareTeam", "Device")));
        add("ServiceRequest", "encounter", "encounter", "Encounter");
        add("Goal", "addresses", "addresses", "Condition", "Observation", "MedicationRequest", "ServiceRequest");
        add("Provenance", "agent", "agent.who", union(PEOPLE, Set.of("Device")));
        add("Coverage", "payor", "payor", "Organization", "Patient", "RelatedPerson");
        add("Device", "organization", "owner", "Organization");
        add("QuestionnaireResponse", "author", "author", union(PEOPLE, Set.of("Device")));
        add("QuestionnaireResponse", "encounter", "encounter", "Encounter");
    }

    private IncludeCatalog() {
    }

    /** The includable references of {@code source}, by parameter name. */
    static Map<String, Ref> forSource(String source) {
        return BY_SOURCE.getOrDefault(source, Map.of());
    }

    static Optional<Ref> find(String source, String name) {
        return Optional.ofNullable(forSource(source).get(name));
    }

    /** The reverse includes a search of {@code target} may ask for. */
    static List<Ref> reversibleTo(String target) {
        if (!target.equals("Patient")) {
            return List.of();
        }
        return BY_SOURCE.values().stream().flatMap(refs -> refs.values().stream()).filter(Ref::reversible).toList();
    }

    private static void add(String source, String name, String path, String... targets) {
        add(source, name, path, Set.of(targets));
    }

    private static void add(String source, String name, String path, Set<String> targets) {
        Set<String> served = new java.util.TreeSet<>(targets);
        served.retainAll(ResourceTypes.names());
        BY_SOURCE.get(source).put(name, new Ref(source, name, path, Set.copyOf(served)));
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new java.util.HashSet<>(a);
        all.addAll(b);
        return all;
    }
}
