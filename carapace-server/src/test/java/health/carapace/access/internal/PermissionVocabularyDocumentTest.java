package health.carapace.access.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.access.Interaction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The vocabulary table of docs/ACCESS.md and the one in code are the same table. */
class PermissionVocabularyDocumentTest {

    /** The rows of the "Permission vocabulary" table of docs/ACCESS.md. */
    static List<PermissionVocabulary.Row> documentedRows() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("..", "docs", "ACCESS.md"));
        int section = lines.indexOf("## Permission vocabulary");
        assertThat(section).as("section in docs/ACCESS.md").isPositive();
        int header = -1;
        for (int i = section; i < lines.size(); i++) {
            if (lines.get(i).equals("| permission | interactions | resource types | meaning |")) {
                header = i;
                break;
            }
        }
        assertThat(header).as("vocabulary table header").isPositive();
        List<PermissionVocabulary.Row> rows = new ArrayList<>();
        for (int i = header + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            String[] cells = lines.get(i).split("\\|");
            // cells[0] is empty (the line starts with '|')
            assertThat(cells).as(lines.get(i)).hasSize(5);
            String permission = cells[1].strip();
            assertThat(permission).startsWith("`").endsWith("`");
            Set<Interaction> interactions = EnumSet.noneOf(Interaction.class);
            if (!cells[2].strip().equals("—")) {
                for (String name : cells[2].split(",")) {
                    interactions.add(Interaction.valueOf(name.strip().toUpperCase(Locale.ROOT)));
                }
            }
            List<String> types = cells[3].strip().equals("—") ? List.of()
                    : Arrays.stream(cells[3].split(",")).map(String::strip).toList();
            rows.add(new PermissionVocabulary.Row(permission.substring(1, permission.length() - 1), interactions,
                    types, cells[4].strip()));
        }
        return rows;
    }

    @Test
    void theDocumentedTableIsTheTableInCode() throws Exception {
        List<PermissionVocabulary.Row> documented = documentedRows();
        assertThat(documented).hasSize(PermissionVocabulary.ROWS.size());
        for (int i = 0; i < documented.size(); i++) {
            PermissionVocabulary.Row doc = documented.get(i);
            PermissionVocabulary.Row code = PermissionVocabulary.ROWS.get(i);
            assertThat(doc.permission()).isEqualTo(code.permission());
            assertThat(doc.interactions()).as(doc.permission()).isEqualTo(code.interactions());
            assertThat(doc.resourceTypes()).as(doc.permission()).isEqualTo(code.resourceTypes());
            assertThat(doc.meaning()).as(doc.permission()).isEqualTo(code.meaning());
        }
    }

    @Test
    void theIssuesExamplesMeanWhatTheIssueSays() {
        assertThat(PermissionVocabulary.permissionsFor(Interaction.SEARCH, "ImagingStudy", null))
                .contains("view:medical_images");
        assertThat(PermissionVocabulary.permissionsFor(Interaction.READ, "DocumentReference", "imaging"))
                .containsExactly("view:medical_images");
        assertThat(PermissionVocabulary.permissionsFor(Interaction.READ, "DocumentReference", null))
                .containsExactly("view:clinical_notes");
        assertThat(PermissionVocabulary.permissionsFor(Interaction.CREATE, "MedicationRequest", null))
                .containsExactly("edit:medications");
        assertThat(PermissionVocabulary.permissionsFor(Interaction.READ, "Patient", null))
                .containsExactly("view:demographics");
        assertThat(PermissionVocabulary.permissionsFor(Interaction.READ, "Basic", null)).isEmpty();
        for (String permission : List.of("view:ssn", "view:all_patients", "manage:users", "view:audit", "manage:keys",
                "annotate:studies", "view:clinical_notes")) {
            assertThat(PermissionVocabulary.isKnown(permission)).as(permission).isTrue();
        }
    }
}
