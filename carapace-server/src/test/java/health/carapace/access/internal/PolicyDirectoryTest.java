package health.carapace.access.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.ZoneId;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Loading the policy directory: every invalid document is refused with file, role and problem. */
class PolicyDirectoryTest {

    @TempDir
    Path dir;

    private static final String RADIOLOGIST = """
            { "role": "radiologist",
              "permissions": ["view:medical_images", "annotate:studies"],
              "constraints": { "temporal": "08:00-18:00 Mon-Fri", "ip_range": ["192.168.1.0/24"] } }
            """;

    @Test
    void theDocumentOfTheIssueLoads() throws Exception {
        Files.writeString(dir.resolve("radiologist.json"), RADIOLOGIST);
        PolicySnapshot snapshot = new PolicyDirectory(dir, ZoneId.of("UTC")).load();
        Role role = snapshot.role("radiologist");
        assertThat(role.permissions()).containsExactlyInAnyOrder("view:medical_images", "annotate:studies");
        assertThat(role.ipRanges()).hasSize(1);
        assertThat(role.timeWindow()).isNotNull();
        assertThat(role.source()).isEqualTo("radiologist.json");
        assertThat(role.breakGlassOutsideIpRange()).isFalse();
        assertThat(role.unconstrained()).isFalse();
    }

    @Test
    void aRoleWithoutConstraintsLoadsAndIsMarkedUnconstrained() throws Exception {
        Files.writeString(dir.resolve("batch.json"), "{\"role\":\"batch\",\"permissions\":[\"view:directory\"]}");
        Files.writeString(dir.resolve("empty.json"), "{\"role\":\"empty\",\"permissions\":[\"view:directory\"],\"constraints\":{}}");
        PolicySnapshot snapshot = new PolicyDirectory(dir, ZoneId.of("UTC")).load();
        assertThat(snapshot.role("batch").unconstrained()).isTrue();
        assertThat(snapshot.role("empty").unconstrained()).isTrue();
    }

    static Stream<Arguments> invalidDocuments() {
        return Stream.of(
                Arguments.of("{\"role\":\"r1\",\"permissions\":[\"view:everything\"]}", "r1",
                        "unknown permission \"view:everything\""),
                // a Group is read whole: only a role that reaches every patient may read or change one (ADR 0027)
                Arguments.of("{\"role\":\"g1\",\"permissions\":[\"view:groups\",\"view:demographics\"]}", "g1",
                        "\"view:groups\" and \"edit:groups\" need \"view:all_patients\" in the same role"),
                Arguments.of("{\"role\":\"g2\",\"permissions\":[\"edit:groups\"]}", "g2",
                        "\"view:groups\" and \"edit:groups\" need \"view:all_patients\" in the same role"),
                Arguments.of("{\"role\":\"r2\",\"permissions\":[\"DROP TABLE x\"]}", "r2",
                        "unknown permission (not of the form action:object)"),
                Arguments.of("{\"role\":\"r3\",\"permissions\":[\"view:directory\"],\"constraints\":{\"temporal\":\"25:00-18:00 Mon-Fri\"}}",
                        "r3", "bad time window"),
                Arguments.of("{\"role\":\"r4\",\"permissions\":[\"view:directory\"],\"constraints\":{\"temporal\":\"08:00-08:00\"}}",
                        "r4", "bad time window: the window is empty"),
                Arguments.of("{\"role\":\"r5\",\"permissions\":[\"view:directory\"],\"constraints\":{\"temporal\":\"08:00-18:00 Mon-Fry\"}}",
                        "r5", "bad time window: days are"),
                Arguments.of("{\"role\":\"r6\",\"permissions\":[\"view:directory\"],\"constraints\":{\"ip_range\":[\"192.168.1.0/33\"]}}",
                        "r6", "bad CIDR in \"ip_range\" entry 1"),
                Arguments.of("{\"role\":\"r7\",\"permissions\":[\"view:directory\"],\"constraints\":{\"ip_range\":[\"10.0.0.0/8\",\"intranet.example\"]}}",
                        "r7", "bad CIDR in \"ip_range\" entry 2: not an IPv4 or IPv6 address"),
                Arguments.of("{\"role\":\"r8\",\"permissions\":[\"view:directory\"],\"constraints\":{\"ip_range\":[\"192.168.1.5/24\"]}}",
                        "r8", "host bits are set"),
                Arguments.of("{\"role\":\"r9\",\"permissions\":[\"view:directory\"],\"constraints\":{\"ip_range\":[\"2001:db8::/129\"]}}",
                        "r9", "prefix length is above 128"),
                Arguments.of("{\"role\":\"r10\",\"permissions\":[\"view:directory\"],\"description\":\"x\"}", "r10",
                        "unknown key \"description\""),
                Arguments.of("{\"role\":\"r11\",\"permissions\":[\"view:directory\"],\"constraints\":{\"days\":\"Mon\"}}",
                        "r11", "unknown constraint \"days\""),
                Arguments.of("{\"role\":\"r12\"}", "r12", "\"permissions\" (a list) is missing"),
                Arguments.of("{\"permissions\":[\"view:directory\"]}", "(unnamed)", "\"role\" (a string) is missing"),
                Arguments.of("{\"role\":\"r14\",\"permissions\":[]}", "r14", "non-empty list"),
                Arguments.of("{\"role\":\"r15\",\"permissions\":[\"view:directory\",\"view:directory\"]}", "r15",
                        "listed twice"),
                Arguments.of("{\"role\":\"r16\",\"permissions\":[\"view:directory\"],\"constraints\":{\"temporal\":\"08:00-18:00\",\"time_zone\":\"Mars/Olympus\"}}",
                        "r16", "unknown time zone"),
                Arguments.of("{\"role\":\"r17\",\"permissions\":[\"view:directory\"],\"constraints\":{\"break_glass_outside_ip_range\":true}}",
                        "r17", "without \"ip_range\""),
                Arguments.of("{\"role\":\"r18\",\"permissions\":[\"view:directory\"],\"role\":\"r18\"}", "(unnamed)",
                        "a key appears twice"),
                Arguments.of("{\"role\":\"r19\",\"permissions\":[\"view:directory\"]} trailing", "(unnamed)", "not valid JSON"),
                Arguments.of("{\"role\":\"Radiologist\",\"permissions\":[\"view:directory\"]}", "(unnamed)", "lower-case letters"),
                Arguments.of("{\"role\":\"r21\",\"permissions\":[\"view:directory\"],\"constraints\":{\"ip_range\":[]}}",
                        "r21", "non-empty list of CIDRs"),
                Arguments.of("{\"role\":\"r22\",\"permissions\":[\"view:directory\"],\"constraints\":{\"ip_range\":[\"fe80::1%eth0\"]}}",
                        "r22", "zone ids"),
                Arguments.of("{\"role\":\"r23\",\"permissions\":[\"view:directory\"],\"constraints\":{\"temporal\":\"8:00-18:00\"}}",
                        "r23", "HH:MM-HH:MM"));
    }

    @ParameterizedTest
    @MethodSource("invalidDocuments")
    void anInvalidDocumentIsRefusedNamingFileRoleAndProblem(String json, String role, String problem) throws Exception {
        Files.writeString(dir.resolve("good.json"), RADIOLOGIST);
        Files.writeString(dir.resolve("broken.json"), json);
        PolicyDirectory directory = new PolicyDirectory(dir, ZoneId.of("UTC"));
        String expectedRole = role.startsWith("(") ? "role " + role : "role \"" + role + "\"";
        assertThatThrownBy(directory::load)
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("broken.json: " + expectedRole + ": ")
                .hasMessageContaining(problem)
                .hasMessageNotContaining("good.json");
    }

    @Test
    void aDuplicateRoleNameIsRefusedNamingBothFiles() throws Exception {
        Files.writeString(dir.resolve("a-radiologist.json"), RADIOLOGIST);
        Files.writeString(dir.resolve("b-radiologist.json"), RADIOLOGIST);
        assertThatThrownBy(() -> new PolicyDirectory(dir, ZoneId.of("UTC")).load())
                .hasMessageContaining("b-radiologist.json: role \"radiologist\": duplicate role name (also defined in a-radiologist.json)");
    }

    @Test
    void everyProblemOfEveryFileIsReportedAtOnce() throws Exception {
        Files.writeString(dir.resolve("one.json"), "{\"role\":\"one\",\"permissions\":[\"view:nothing\"],\"extra\":1}");
        Files.writeString(dir.resolve("two.json"), "{\"role\":\"two\",\"permissions\":[\"view:directory\"],\"constraints\":{\"ip_range\":[\"x\"]}}");
        assertThatThrownBy(() -> new PolicyDirectory(dir, ZoneId.of("UTC")).load())
                .isInstanceOfSatisfying(PolicyException.class, e -> assertThat(e.problems()).hasSize(3)
                        .anyMatch(p -> p.startsWith("one.json: role \"one\": unknown permission"))
                        .anyMatch(p -> p.startsWith("one.json: role \"one\": unknown key"))
                        .anyMatch(p -> p.startsWith("two.json: role \"two\": bad CIDR")));
    }

    @Test
    void valuesThatAreNotNamesAreNeverEchoed() throws Exception {
        String secretish = "Jane Doe 123-45-6789";
        Files.writeString(dir.resolve("x.json"), "{\"role\":\"x\",\"permissions\":[\"" + secretish + "\"],"
                + "\"constraints\":{\"temporal\":\"" + secretish + "\",\"ip_range\":[\"" + secretish + "\"],\""
                + secretish + "\":1}}");
        assertThatThrownBy(() -> new PolicyDirectory(dir, ZoneId.of("UTC")).load())
                .hasMessageNotContaining("Jane").hasMessageNotContaining("6789");
    }

    @Test
    void otherFilesAndDotFilesAreIgnoredAndAMissingDirectoryIsAnError() throws Exception {
        Files.writeString(dir.resolve("README.md"), "not a role");
        Files.writeString(dir.resolve(".role-123.tmp"), "{");
        Files.writeString(dir.resolve(".hidden.json"), "{");
        assertThat(new PolicyDirectory(dir, ZoneId.of("UTC")).load().roles()).isEmpty();
        assertThatThrownBy(() -> new PolicyDirectory(dir.resolve("absent"), ZoneId.of("UTC")).load())
                .hasMessageContaining("carapace.access.policy-dir");
    }

    @Test
    void putValidatesAgainstTheDirectoryAndWritesAtomicallyWithMode0600() throws Exception {
        PolicyDirectory directory = new PolicyDirectory(dir, ZoneId.of("UTC"));
        int[] audited = {0};
        PolicyDirectory.Change change = directory.put("radiologist", RADIOLOGIST, () -> audited[0]++);
        assertThat(change.created()).isTrue();
        assertThat(audited[0]).isEqualTo(1);
        Path file = dir.resolve("radiologist.json");
        assertThat(Files.readString(file)).isEqualTo(RADIOLOGIST);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(directory.put("radiologist", RADIOLOGIST.replace("annotate:studies", "view:directory"),
                () -> audited[0]++).created()).isFalse();
        assertThat(directory.load().role("radiologist").permissions()).contains("view:directory");

        assertThatThrownBy(() -> directory.put("other", RADIOLOGIST, () -> audited[0]++))
                .hasMessageContaining("names another role");
        assertThatThrownBy(() -> directory.put("bad", "{\"role\":\"bad\",\"permissions\":[\"x:y\"]}", () -> audited[0]++))
                .hasMessageContaining("bad.json: role \"bad\": unknown permission");
        assertThat(audited[0]).isEqualTo(2);
        assertThat(dir.resolve("bad.json")).doesNotExist();
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("radiologist.json");
        }
        assertThat(directory.delete("radiologist", () -> audited[0]++)).isPresent();
        assertThat(directory.delete("radiologist", () -> audited[0]++)).isEmpty();
        assertThat(file).doesNotExist();
    }

    @Test
    void theDevRolesAreSeededOnceAndLoad() throws Exception {
        PolicyDirectory directory = new PolicyDirectory(dir.resolve("policy"), ZoneId.of("UTC"));
        assertThat(directory.seedDevRolesIfAbsent()).isTrue();
        PolicySnapshot snapshot = directory.load();
        assertThat(snapshot.roles().keySet()).containsExactlyInAnyOrderElementsOf(PolicyDirectory.DEV_ROLES);
        assertThat(snapshot.role("admin").permissions()).contains("manage:users", "view:audit", "manage:keys");
        assertThat(snapshot.role("admin").ipRanges()).isNotEmpty();
        assertThat(snapshot.role("clinician").timeWindow()).isNotNull();
        Files.delete(dir.resolve("policy").resolve("clinician.json"));
        assertThat(directory.seedDevRolesIfAbsent()).isFalse();
        assertThat(directory.load().role("clinician")).isNull();
    }
}
