package health.carapace.records.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.ImagingStudy;
import org.hl7.fhir.r4.model.Immunization;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Procedure;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;

/**
 * Every search parameter Carapace supports, in one table: what kind it is, how it is served
 * (metadata column, blind index, or filter after decryption), and where its values are in a
 * resource. The search engine, the indexer and the CapabilityStatement all read this table, so
 * what the server says it supports is what it does.
 */
final class SearchCatalog {

    enum Kind { TOKEN, STRING, DATE, REFERENCE }

    /**
     * How a parameter is served. {@code FILTER} parameters (low-entropy or ranged values that
     * must not be indexed) only filter decrypted candidates, so they need a narrowing parameter.
     */
    enum Serving { METADATA, BLIND_INDEX, FILTER }

    record Param(String name, Kind kind, Serving serving, String documentation,
            Function<Resource, List<? extends Base>> values) {}

    private static final Map<String, Map<String, Param>> BY_TYPE = new LinkedHashMap<>();

    static {
        for (String type : ResourceTypes.names()) {
            BY_TYPE.put(type, new LinkedHashMap<>());
        }
        add("Patient", new Param("identifier", Kind.TOKEN, Serving.BLIND_INDEX,
                "A patient identifier (system|value or value)", r -> ((Patient) r).getIdentifier()));
        add("Patient", new Param("family", Kind.STRING, Serving.BLIND_INDEX,
                "Family name, starts-with, at least 3 characters",
                r -> ((Patient) r).getName().stream().map(HumanName::getFamilyElement).toList()));
        add("Patient", new Param("given", Kind.STRING, Serving.BLIND_INDEX,
                "Given name, starts-with, at least 3 characters",
                r -> ((Patient) r).getName().stream().flatMap(n -> n.getGiven().stream()).toList()));
        add("Patient", new Param("name", Kind.STRING, Serving.BLIND_INDEX,
                "Any family or given name, starts-with, at least 3 characters", SearchCatalog::allNames));
        add("Patient", new Param("birthdate", Kind.DATE, Serving.BLIND_INDEX,
                "Birth date: an exact day is served by a blind index; other precisions and prefixes "
                        + "filter decrypted candidates and need another narrowing parameter",
                r -> List.of(((Patient) r).getBirthDateElement())));
        add("Patient", new Param("gender", Kind.TOKEN, Serving.FILTER,
                "Administrative gender; low-entropy, so it needs another narrowing parameter",
                r -> List.of(((Patient) r).getGenderElement())));

        // The directory (shared compartment): by name and identifier, through blind indexes as
        // for patients. Practitioner names are people's names: the same prefix rule.
        add("Practitioner", new Param("identifier", Kind.TOKEN, Serving.BLIND_INDEX,
                "A practitioner identifier (system|value or value), e.g. an NPI",
                r -> ((org.hl7.fhir.r4.model.Practitioner) r).getIdentifier()));
        add("Practitioner", new Param("family", Kind.STRING, Serving.BLIND_INDEX,
                "Family name, starts-with, at least 3 characters",
                r -> ((org.hl7.fhir.r4.model.Practitioner) r).getName().stream().map(HumanName::getFamilyElement).toList()));
        add("Practitioner", new Param("given", Kind.STRING, Serving.BLIND_INDEX,
                "Given name, starts-with, at least 3 characters",
                r -> ((org.hl7.fhir.r4.model.Practitioner) r).getName().stream().flatMap(n -> n.getGiven().stream()).toList()));
        add("Practitioner", new Param("name", Kind.STRING, Serving.BLIND_INDEX,
                "Any family or given name, starts-with, at least 3 characters",
                r -> names(((org.hl7.fhir.r4.model.Practitioner) r).getName())));
        add("Organization", new Param("identifier", Kind.TOKEN, Serving.BLIND_INDEX,
                "An organisation identifier (system|value or value)",
                r -> ((org.hl7.fhir.r4.model.Organization) r).getIdentifier()));
        add("Organization", new Param("name", Kind.STRING, Serving.BLIND_INDEX,
                "Name or alias, starts-with, at least 3 characters", r -> {
                    var organization = (org.hl7.fhir.r4.model.Organization) r;
                    List<StringType> names = new ArrayList<>();
                    if (organization.hasName()) {
                        names.add(organization.getNameElement());
                    }
                    names.addAll(organization.getAlias());
                    return names;
                }));
        add("Location", new Param("identifier", Kind.TOKEN, Serving.BLIND_INDEX,
                "A location identifier (system|value or value)", r -> ((org.hl7.fhir.r4.model.Location) r).getIdentifier()));
        add("Location", new Param("name", Kind.STRING, Serving.BLIND_INDEX,
                "Name, starts-with, at least 3 characters",
                r -> List.of(((org.hl7.fhir.r4.model.Location) r).getNameElement())));
        add("RelatedPerson", new Param("identifier", Kind.TOKEN, Serving.BLIND_INDEX,
                "A related person's identifier (system|value or value)",
                r -> ((org.hl7.fhir.r4.model.RelatedPerson) r).getIdentifier()));
        add("Medication", new Param("code", Kind.TOKEN, Serving.BLIND_INDEX, "Code (system|code or code)",
                r -> List.of(((org.hl7.fhir.r4.model.Medication) r).getCode())));

        code("Observation", r -> List.of(((Observation) r).getCode()));
        code("ServiceRequest", r -> List.of(((org.hl7.fhir.r4.model.ServiceRequest) r).getCode()));
        code("MedicationAdministration", r -> ((org.hl7.fhir.r4.model.MedicationAdministration) r).hasMedicationCodeableConcept()
                ? List.of(((org.hl7.fhir.r4.model.MedicationAdministration) r).getMedicationCodeableConcept()) : List.of());
        code("MedicationDispense", r -> ((org.hl7.fhir.r4.model.MedicationDispense) r).hasMedicationCodeableConcept()
                ? List.of(((org.hl7.fhir.r4.model.MedicationDispense) r).getMedicationCodeableConcept()) : List.of());
        code("Condition", r -> List.of(((Condition) r).getCode()));
        code("AllergyIntolerance", r -> List.of(((AllergyIntolerance) r).getCode()));
        code("MedicationRequest", r -> ((MedicationRequest) r).hasMedicationCodeableConcept()
                ? List.of(((MedicationRequest) r).getMedicationCodeableConcept()) : List.of());
        code("Procedure", r -> List.of(((Procedure) r).getCode()));
        code("DiagnosticReport", r -> List.of(((DiagnosticReport) r).getCode()));

        date("Observation", r -> List.of(((Observation) r).getEffective()));
        date("Encounter", r -> List.of(((Encounter) r).getPeriod()));
        date("AllergyIntolerance", r -> List.of(((AllergyIntolerance) r).getRecordedDateElement()));
        date("Procedure", r -> List.of(((Procedure) r).getPerformed()));
        date("DiagnosticReport", r -> List.of(((DiagnosticReport) r).getEffective()));
        date("Immunization", r -> List.of(((Immunization) r).getOccurrence()));
        date("CarePlan", r -> List.of(((CarePlan) r).getPeriod()));
        date("CareTeam", r -> List.of(((CareTeam) r).getPeriod()));
        date("DocumentReference", r -> List.of(((DocumentReference) r).getDateElement()));

        status("Observation", r -> List.of(((Observation) r).getStatusElement()));
        status("Encounter", r -> List.of(((Encounter) r).getStatusElement()));
        status("MedicationRequest", r -> List.of(((MedicationRequest) r).getStatusElement()));
        status("Procedure", r -> List.of(((Procedure) r).getStatusElement()));
        status("DiagnosticReport", r -> List.of(((DiagnosticReport) r).getStatusElement()));
        status("ImagingStudy", r -> List.of(((ImagingStudy) r).getStatusElement()));
        status("DocumentReference", r -> List.of(((DocumentReference) r).getStatusElement()));
        status("Immunization", r -> List.of(((Immunization) r).getStatusElement()));
        status("CarePlan", r -> List.of(((CarePlan) r).getStatusElement()));
        status("CareTeam", r -> List.of(((CareTeam) r).getStatusElement()));
        status("ServiceRequest", r -> List.of(((org.hl7.fhir.r4.model.ServiceRequest) r).getStatusElement()));
        status("MedicationAdministration",
                r -> List.of(((org.hl7.fhir.r4.model.MedicationAdministration) r).getStatusElement()));
        status("MedicationDispense", r -> List.of(((org.hl7.fhir.r4.model.MedicationDispense) r).getStatusElement()));
        status("Device", r -> List.of(((org.hl7.fhir.r4.model.Device) r).getStatusElement()));
        status("Coverage", r -> List.of(((org.hl7.fhir.r4.model.Coverage) r).getStatusElement()));
        status("Specimen", r -> List.of(((org.hl7.fhir.r4.model.Specimen) r).getStatusElement()));
        status("QuestionnaireResponse", r -> List.of(((org.hl7.fhir.r4.model.QuestionnaireResponse) r).getStatusElement()));
        status("Questionnaire", r -> List.of(((org.hl7.fhir.r4.model.Questionnaire) r).getStatusElement()));
        add("Goal", new Param("lifecycle-status", Kind.TOKEN, Serving.FILTER,
                "Lifecycle status; low-entropy, so it needs patient, subject or another narrowing parameter",
                r -> List.of(((org.hl7.fhir.r4.model.Goal) r).getLifecycleStatusElement())));
        add("ServiceRequest", new Param("authored", Kind.DATE, Serving.FILTER,
                "When the request was made; filters decrypted candidates, so it needs a narrowing parameter",
                r -> List.of(((org.hl7.fhir.r4.model.ServiceRequest) r).getAuthoredOnElement())));
        add("QuestionnaireResponse", new Param("authored", Kind.DATE, Serving.FILTER,
                "When the answers were gathered; filters decrypted candidates, so it needs a narrowing parameter",
                r -> List.of(((org.hl7.fhir.r4.model.QuestionnaireResponse) r).getAuthoredElement())));

        for (String type : ResourceTypes.names()) {
            if (ResourceTypes.patientLink(type).isPresent()) {
                add(type, new Param("patient", Kind.REFERENCE, Serving.METADATA,
                        "The patient the resource belongs to (Patient/id)", r -> List.of()));
                add(type, new Param("subject", Kind.REFERENCE, Serving.METADATA,
                        "The patient the resource belongs to (Patient/id); other subject types are not searchable",
                        r -> List.of()));
            }
        }
    }

    private SearchCatalog() {
    }

    /** Parameters every type supports, served from metadata columns. */
    static final List<Param> COMMON = List.of(
            new Param("_id", Kind.TOKEN, Serving.METADATA, "Logical id", r -> List.of()),
            new Param("_lastUpdated", Kind.DATE, Serving.METADATA, "When the server last wrote the resource",
                    r -> List.of()));

    static Map<String, Param> forType(String type) {
        return BY_TYPE.getOrDefault(type, Map.of());
    }

    private static void add(String type, Param param) {
        BY_TYPE.get(type).put(param.name(), param);
    }

    private static void code(String type, Function<Resource, List<? extends Base>> values) {
        add(type, new Param("code", Kind.TOKEN, Serving.BLIND_INDEX, "Code (system|code or code)", values));
    }

    private static void date(String type, Function<Resource, List<? extends Base>> values) {
        add(type, new Param("date", Kind.DATE, Serving.FILTER,
                "Clinically relevant date; filters decrypted candidates, so it needs patient, subject or another "
                        + "narrowing parameter",
                values));
    }

    private static void status(String type, Function<Resource, List<? extends Base>> values) {
        add(type, new Param("status", Kind.TOKEN, Serving.FILTER,
                "Status; low-entropy, so it needs patient, subject or another narrowing parameter", values));
    }

    private static List<StringType> allNames(Resource r) {
        return names(((Patient) r).getName());
    }

    private static List<StringType> names(List<HumanName> humanNames) {
        List<StringType> names = new ArrayList<>();
        for (HumanName name : humanNames) {
            if (name.hasFamily()) {
                names.add(name.getFamilyElement());
            }
            names.addAll(name.getGiven());
        }
        return names;
    }
}
