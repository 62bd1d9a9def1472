package health.carapace.access.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * A role document refused by {@code PUT /admin/roles/{name}} is answered without a word of the
 * document: the role is named by the request path, unknown keys and permissions by where they
 * are. Found while building {@code AdminInputInProcessFuzzTest#roleDocument} (its marker check
 * would have failed): a role name, key or permission of the right shape was quoted back, so the
 * refusal carried what the client sent. These tests failed before the fix. Role files
 * read at start-up keep naming what they hold (the operator's own files, in the operator's log).
 */
class RoleDocumentRefusalsTest {

    /** Shaped like a role name, a key and a permission's object, so that the old quoting would repeat it. */
    private static final String SENT = "qzfzmarksentabc";

    private final RoleDocumentsInput roles = RoleDocumentsInput.withDevRoles();

    private RoleDocumentsInput.Answer put(String name, String document) throws IOException {
        return roles.put(name, "application/json", document.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aDocumentNamingAnotherRoleIsRefusedByThePathsName() throws IOException {
        RoleDocumentsInput.Answer answer = put("fuzz-r0", "{\"role\":\"fuzz-r0" + SENT + "\",\"permissions\":"
                + "[\"view:demographics\"]}");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.body()).contains("OperationOutcome").contains("role \\\"fuzz-r0\\\"")
                .contains("names another role").doesNotContain(SENT);
    }

    @Test
    void aDocumentWithAnInvalidRoleNameOfTheRightShapeIsRefusedByThePathsName() throws IOException {
        RoleDocumentsInput.Answer answer = put("fuzz-r1", "{\"role\":\"fuzz-r1" + SENT + "\",\"permissions\":[]}");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.body()).contains("\\\"permissions\\\" must be a non-empty list").doesNotContain(SENT);
    }

    @Test
    void unknownKeysConstraintsAndPermissionsAreNamedByWhereTheyAreNotByWhatTheySay() throws IOException {
        RoleDocumentsInput.Answer answer = put("fuzz-r2", "{\"role\":\"fuzz-r2\",\"permissions\":[\"view:demographics\","
                + "\"view:" + SENT + "\"],\"x" + SENT + "\":1,\"constraints\":{\"y" + SENT + "\":2}}");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.body()).contains("unknown permission (\\\"permissions\\\" entry 2)")
                .contains("unknown key (allowed: role, permissions, constraints)")
                .contains("unknown constraint (allowed: ").doesNotContain(SENT);
    }

    @Test
    void aValidDocumentIsStillAcceptedAndARoleFileStillNamesWhatItHolds() throws IOException {
        assertThat(put("fuzz-r3", "{\"role\":\"fuzz-r3\",\"permissions\":[\"view:demographics\"]}").status())
                .isEqualTo(201);
        // a file at start-up: the operator's own, its problems named in full
        Assertions.assertThatThrownBy(() -> RoleDocuments.parse("auditor.json", "{\"role\":\"auditor\","
                + "\"permissions\":[\"view:" + SENT + "\"]}", ZoneOffset.UTC))
                .isInstanceOf(PolicyException.class).hasMessageContaining("\"view:" + SENT + "\"");
    }
}
