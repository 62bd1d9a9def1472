package health.carapace.records.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Every resource type Carapace serves is reachable through some permission of the vocabulary in
 * docs/ACCESS.md (which PermissionVocabularyDocumentTest holds equal to the table in code): with
 * deny by default, a type no permission names could never be read.
 */
class ServedTypesHavePermissionsTest {

    @Test
    void everyServedTypeAppearsInTheVocabulary() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("..", "docs", "ACCESS.md"));
        int header = lines.indexOf("| permission | interactions | resource types | meaning |");
        assertThat(header).isPositive();
        Set<String> types = new HashSet<>();
        for (int i = header + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            for (String type : lines.get(i).split("\\|")[3].split(",")) {
                String t = type.strip();
                types.add(t.contains("[") ? t.substring(0, t.indexOf('[')) : t);
            }
        }
        assertThat(types).containsAll(ResourceTypes.names()).contains("AuditEvent");
    }
}
