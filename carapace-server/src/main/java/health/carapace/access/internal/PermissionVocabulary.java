package health.carapace.access.internal;

import health.carapace.access.Interaction;
import health.carapace.access.Permissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The permission vocabulary: each {@code action:object} permission and the FHIR interactions and
 * resource types it opens. This is the one table in code; docs/ACCESS.md holds the same table
 * for people, and a test parses the document and compares. Anything not listed is denied; a role
 * naming a permission that is not listed does not load.
 *
 * <p>A resource type written {@code DocumentReference[imaging]} matches only requests whose
 * category is {@code imaging}; {@code DocumentReference[other]} matches every other category,
 * including none.
 */
final class PermissionVocabulary {

    /** One row of the table. {@code interactions} and {@code resourceTypes} are empty for permissions that are not an interaction. */
    record Row(String permission, Set<Interaction> interactions, List<String> resourceTypes, String meaning) {}

    private static final Set<Interaction> VIEW = EnumSet.of(Interaction.READ, Interaction.VREAD, Interaction.SEARCH,
            Interaction.HISTORY);
    private static final Set<Interaction> EDIT = EnumSet.of(Interaction.CREATE, Interaction.UPDATE, Interaction.PATCH,
            Interaction.DELETE);
    private static final Set<Interaction> NONE = EnumSet.noneOf(Interaction.class);

    static final String IMAGING_SUFFIX = "[" + Permissions.IMAGING_CATEGORY + "]";
    static final String OTHER_SUFFIX = "[other]";

    private static final List<String> CLINICAL = List.of("Encounter", "Observation", "Condition",
            "AllergyIntolerance", "Procedure", "DiagnosticReport", "Immunization", "CarePlan", "CareTeam", "Appointment",
            "Goal", "ServiceRequest", "Device", "Specimen", "QuestionnaireResponse", "Provenance");
    private static final List<String> CLINICAL_WRITABLE = List.of("Observation", "Condition", "AllergyIntolerance",
            "Procedure", "DiagnosticReport", "Immunization", "CarePlan", "Appointment", "Goal", "ServiceRequest", "Device",
            "Specimen", "QuestionnaireResponse", "Provenance");
    private static final List<String> DEMOGRAPHICS = List.of("Patient", "RelatedPerson", "Coverage");
    private static final List<String> MEDICATIONS = List.of("MedicationRequest", "MedicationAdministration",
            "MedicationDispense", "Medication");
    private static final List<String> DIRECTORY = List.of("Practitioner", "Organization", "PractitionerRole", "Location",
            "Questionnaire");

    static final List<Row> ROWS = List.of(
            new Row("view:demographics", VIEW, DEMOGRAPHICS, "patient demographics, related persons and coverage"),
            new Row("edit:demographics", EDIT, DEMOGRAPHICS, "register and change patients, related persons and coverage"),
            new Row("view:clinical_records", VIEW, CLINICAL, "the clinical record except notes, images and medications"),
            new Row("edit:clinical_records", EDIT, CLINICAL_WRITABLE, "write the clinical record"),
            new Row("manage:care_relationships", EDIT, List.of("Encounter", "CareTeam"),
                    "write the resources that create care relationships (who may see whom)"),
            new Row("view:clinical_notes", VIEW, List.of("DocumentReference" + OTHER_SUFFIX), "clinical notes and other documents"),
            new Row("edit:clinical_notes", EDIT, List.of("DocumentReference" + OTHER_SUFFIX), "write clinical notes"),
            new Row("view:medical_images", VIEW, List.of("ImagingStudy", "DocumentReference" + IMAGING_SUFFIX),
                    "imaging studies and imaging documents"),
            new Row("annotate:studies", EnumSet.of(Interaction.UPDATE, Interaction.PATCH),
                    List.of("ImagingStudy", "DocumentReference" + IMAGING_SUFFIX), "annotate existing studies"),
            new Row("edit:medical_images", EDIT, List.of("ImagingStudy", "DocumentReference" + IMAGING_SUFFIX),
                    "register, change and delete studies"),
            new Row("view:medications", VIEW, MEDICATIONS, "prescriptions, administrations, dispenses and medications"),
            new Row("edit:medications", EDIT, MEDICATIONS, "prescribe and change prescriptions, record administrations and dispenses"),
            new Row("view:directory", VIEW, DIRECTORY,
                    "practitioners, their roles, organisations, locations and questionnaires (not patient data)"),
            new Row("edit:directory", EDIT, DIRECTORY, "maintain practitioners, roles, organisations, locations and questionnaires"),
            new Row(Permissions.VIEW_GROUPS, VIEW, List.of("Group"),
                    "groups of patients (who is in which cohort); only with view:all_patients (ADR 0027)"),
            new Row(Permissions.EDIT_GROUPS, EDIT, List.of("Group"),
                    "create and change groups of patients; only with view:all_patients (ADR 0027)"),
            new Row(Permissions.VIEW_AUDIT, EnumSet.of(Interaction.READ, Interaction.SEARCH), List.of("AuditEvent"),
                    "the audit trail, also /admin/audit/**"),
            new Row(Permissions.VIEW_SSN, NONE, List.of(), "SSN identifiers unmasked (masking, not an interaction)"),
            new Row(Permissions.VIEW_ALL_PATIENTS, NONE, List.of(),
                    "the role's own permissions reach patients without a care relationship (scope, not an interaction)"),
            new Row(Permissions.MANAGE_USERS, NONE, List.of(), "users, service clients and roles (/admin/roles)"),
            new Row(Permissions.MANAGE_KEYS, NONE, List.of(), "key administration: rotation and crypto-shredding"),
            new Row(Permissions.VIEW_METRICS, NONE, List.of(), "the metrics scrape (/admin/metrics): key status and job progress"),
            new Row(Permissions.VIEW_COMPLIANCE, NONE, List.of(),
                    "compliance reports, stored reports and their public key (/admin/compliance/**)"),
            new Row(Permissions.VIEW_INCIDENTS, NONE, List.of(), "incidents, read only (GET /admin/incidents/**)"),
            new Row(Permissions.MANAGE_INCIDENTS, NONE, List.of(),
                    "incident response (/admin/incidents/**) and the privacy register (/admin/privacy/**)"));

    /** Interaction × type key (type with its category suffix) → permissions that open it. */
    private static final Map<String, Set<String>> BY_KEY;
    private static final Set<String> NAMES;

    static {
        Map<String, Set<String>> byKey = new HashMap<>();
        Map<String, Row> names = new LinkedHashMap<>();
        for (Row row : ROWS) {
            if (names.put(row.permission(), row) != null) {
                throw new IllegalStateException("permission listed twice");
            }
            for (Interaction interaction : row.interactions()) {
                for (String type : row.resourceTypes()) {
                    byKey.computeIfAbsent(key(interaction, type), k -> new java.util.HashSet<>()).add(row.permission());
                }
            }
        }
        Map<String, Set<String>> frozen = new HashMap<>();
        byKey.forEach((k, v) -> frozen.put(k, Set.copyOf(v)));
        BY_KEY = Map.copyOf(frozen);
        NAMES = Collections.unmodifiableSet(names.keySet());
    }

    private PermissionVocabulary() {
    }

    static boolean isKnown(String permission) {
        return NAMES.contains(permission);
    }

    static Set<String> names() {
        return NAMES;
    }

    /** The permissions any one of which opens this interaction on this type (empty: nothing does). */
    static Set<String> permissionsFor(Interaction interaction, String resourceType, String category) {
        Set<String> direct = BY_KEY.get(key(interaction, resourceType));
        if (direct != null) {
            return direct;
        }
        String suffix = Permissions.IMAGING_CATEGORY.equals(category) ? IMAGING_SUFFIX : OTHER_SUFFIX;
        Set<String> byCategory = BY_KEY.get(key(interaction, resourceType + suffix));
        return byCategory == null ? Set.of() : byCategory;
    }

    /** Every resource type named in the table, without category suffixes. */
    static Set<String> resourceTypes() {
        Set<String> types = new java.util.TreeSet<>();
        for (Row row : ROWS) {
            for (String type : row.resourceTypes()) {
                int bracket = type.indexOf('[');
                types.add(bracket < 0 ? type : type.substring(0, bracket));
            }
        }
        return types;
    }

    static List<Row> rows() {
        return new ArrayList<>(ROWS);
    }

    private static String key(Interaction interaction, String type) {
        return interaction.name() + ' ' + type;
    }
}
