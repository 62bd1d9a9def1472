package health.carapace.records.internal;

import health.carapace.access.Permissions;
import java.util.UUID;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The policy category of a record, worked out from its plaintext when it is written and kept as
 * metadata, so that reads can be decided without decrypting. Today one category exists: an
 * imaging DocumentReference (an attachment of type {@code image/*} or {@code application/dicom},
 * or a category coded LOINC 18748-4 "Diagnostic imaging study").
 */
final class RecordCategories {

    static final String LOINC = "http://loinc.org";
    static final String DIAGNOSTIC_IMAGING = "18748-4";

    private RecordCategories() {
    }

    /** The category of a resource about to be stored, or null. */
    static String of(Resource resource) {
        if (resource instanceof DocumentReference document && imaging(document)) {
            return Permissions.IMAGING_CATEGORY;
        }
        return null;
    }

    static void insert(JdbcClient jdbc, String type, UUID id, long version, String category) {
        if (category != null) {
            jdbc.sql("insert into phi.resource_category (resource_type, resource_id, version, category) values (?, ?, ?, ?)")
                    .params(type, id, version, category)
                    .update();
        }
    }

    static String current(JdbcClient jdbc, String type, UUID id, long version) {
        if (!type.equals("DocumentReference")) {
            return null;
        }
        return jdbc.sql("select category from phi.resource_category where resource_type = ? and resource_id = ? and version = ?")
                .params(type, id, version)
                .query(String.class)
                .optional()
                .orElse(null);
    }

    /** SQL true when the record in {@code r} (a phi.resource row) has the category. */
    static String currentIs(String category) {
        return "exists (select 1 from phi.resource_category c where c.resource_type = r.resource_type "
                + "and c.resource_id = r.resource_id and c.version = r.current_version and c.category = '" + category + "')";
    }

    /** SQL true when the version in {@code v} (a phi.resource_version row) has the category. */
    static String versionIs(String category) {
        return "exists (select 1 from phi.resource_category c where c.resource_type = v.resource_type "
                + "and c.resource_id = v.resource_id and c.version = v.version and c.category = '" + category + "')";
    }

    private static boolean imaging(DocumentReference document) {
        for (DocumentReference.DocumentReferenceContentComponent content : document.getContent()) {
            Attachment attachment = content.getAttachment();
            String type = attachment.getContentType();
            if (type != null && (type.startsWith("image/") || type.equals("application/dicom"))) {
                return true;
            }
        }
        for (CodeableConcept category : document.getCategory()) {
            for (Coding coding : category.getCoding()) {
                if (LOINC.equals(coding.getSystem()) && DIAGNOSTIC_IMAGING.equals(coding.getCode())) {
                    return true;
                }
            }
        }
        return false;
    }
}
