package health.carapace.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Roles for the tests, in the policy directory of the shared test installation (beside the dev
 * roles start-dev seeds there): role documents in the real format, loaded by the real policy
 * engine. Written once per JVM before the server starts; the time window of {@link #OFF_HOURS}
 * is computed so that it never contains the hours the tests run in.
 */
public final class TestPolicy {

    /**
     * Every record permission, view:all_patients and view:ssn, no constraints: the shared
     * integration-test client (system-to-system). Not view:audit or manage:users.
     */
    public static final String EVERYTHING = "test-everything";
    /** A clinician without view:all_patients or view:ssn, from loopback addresses only. */
    public static final String CLINICIAN = "test-clinician";
    /** A clinician whose time window is never now. */
    public static final String OFF_HOURS = "test-off-hours-clinician";
    /** A clinician whose address range never contains the test client's. */
    public static final String REMOTE = "test-remote-clinician";
    /** A remote clinician whose role lets break-glass work outside its address range. */
    public static final String REMOTE_BREAK_GLASS = "test-remote-break-glass";
    /** Imaging only. */
    public static final String RADIOLOGIST = "test-radiologist";
    /** The audit trail only. */
    public static final String AUDITOR = "test-auditor";
    /** A clinician who may also record Encounters (a visit's, telehealth), from loopback addresses. */
    public static final String VISIT_CLINICIAN = "test-visit-clinician";
    /** The metrics scrape only (view:metrics), from loopback addresses. */
    public static final String METRICS = "test-metrics";
    /** Compliance reports only (view:compliance), from loopback addresses. */
    public static final String COMPLIANCE = "test-compliance";
    /** Patient demographics only, nothing clinical (SMART scope narrowing, issue #18). */
    public static final String DEMOGRAPHICS = "test-demographics";
    /** Groups of patients only (view:groups needs view:all_patients), from loopback addresses: no record of any member. */
    public static final String GROUPS_ONLY = "test-groups-only";
    /** Demographics of every patient, but no groups (view:groups). */
    public static final String ALL_DEMOGRAPHICS = "test-all-demographics";
    /** May change demographics of any patient but read none: a write that reads (PATCH) must be refused. */
    public static final String EDIT_ONLY = "test-edit-only";
    /** Account administration only (manage:users), from loopback addresses: can grant no role richer than it. */
    public static final String USER_MANAGER = "test-user-manager";
    /** Incidents read only (view:incidents), from loopback addresses: with the roles above, one role per console permission. */
    public static final String INCIDENT_VIEWER = "test-incident-viewer";
    /** Incident response only (manage:incidents, without view:incidents), from loopback addresses. */
    public static final String INCIDENT_RESPONDER = "test-incident-responder";
    /** Key administration only (manage:keys), from loopback addresses. */
    public static final String KEY_ADMIN = "test-key-admin";

    private static final String CLINICAL = "\"view:demographics\", \"view:clinical_records\", \"edit:clinical_records\", "
            + "\"view:clinical_notes\", \"edit:clinical_notes\", \"view:medications\", \"view:medical_images\"";
    private static final String LOOPBACK = "\"ip_range\": [\"127.0.0.0/8\", \"::1/128\"]";
    private static final String ELSEWHERE = "\"ip_range\": [\"203.0.113.0/24\"]";

    private static final String[] DEV_ROLES = {"admin", "clinician", "radiologist", "records-service",
        "privacy-officer"};
    private static Path directory;

    private TestPolicy() {
    }

    public static synchronized Path directory() {
        if (directory == null) {
            try {
                Path dir = Path.of(TestInstallation.properties().get("carapace.access.policy-dir").toString());
                if (!Files.exists(dir)) {
                    // the directory start-dev would seed, with the dev roles other tests use
                    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                    for (String role : DEV_ROLES) {
                        try (InputStream in = TestPolicy.class.getResourceAsStream(
                                "/health/carapace/access/internal/dev-policy/" + role + ".json")) {
                            Files.write(dir.resolve(role + ".json"), in.readAllBytes());
                        }
                    }
                }
                ZonedDateTime later = ZonedDateTime.now(ZoneOffset.UTC).plusHours(6);
                String window = String.format("%02d:00-%02d:00", later.getHour(), (later.getHour() + 1) % 24);
                Map<String, String> roles = new java.util.HashMap<>(Map.of(
                        EVERYTHING, "\"permissions\": [\"view:demographics\", \"edit:demographics\", "
                                + "\"view:clinical_records\", \"edit:clinical_records\", \"manage:care_relationships\", "
                                + "\"view:clinical_notes\", \"edit:clinical_notes\", \"view:medical_images\", "
                                + "\"edit:medical_images\", \"view:medications\", \"edit:medications\", \"view:directory\", "
                                + "\"edit:directory\", \"view:groups\", \"edit:groups\", \"view:ssn\", "
                                + "\"view:all_patients\"]",
                        CLINICIAN, "\"permissions\": [" + CLINICAL + "], \"constraints\": {" + LOOPBACK + "}",
                        VISIT_CLINICIAN, "\"permissions\": [" + CLINICAL + ", \"manage:care_relationships\"], "
                                + "\"constraints\": {" + LOOPBACK + "}",
                        OFF_HOURS, "\"permissions\": [" + CLINICAL + "], \"constraints\": {\"temporal\": \"" + window
                                + "\", " + LOOPBACK + "}",
                        REMOTE, "\"permissions\": [" + CLINICAL + "], \"constraints\": {" + ELSEWHERE + "}",
                        REMOTE_BREAK_GLASS, "\"permissions\": [" + CLINICAL + "], \"constraints\": {" + ELSEWHERE
                                + ", \"break_glass_outside_ip_range\": true}",
                        RADIOLOGIST, "\"permissions\": [\"view:medical_images\", \"view:demographics\"], \"constraints\": {"
                                + LOOPBACK + "}",
                        AUDITOR, "\"permissions\": [\"view:audit\"], \"constraints\": {" + LOOPBACK + "}",
                        METRICS, "\"permissions\": [\"view:metrics\"], \"constraints\": {" + LOOPBACK + "}",
                        COMPLIANCE, "\"permissions\": [\"view:compliance\"], \"constraints\": {" + LOOPBACK + "}"));
                roles.put(DEMOGRAPHICS, "\"permissions\": [\"view:demographics\"], \"constraints\": {" + LOOPBACK + "}");
                roles.put(USER_MANAGER, "\"permissions\": [\"manage:users\"], \"constraints\": {" + LOOPBACK + "}");
                for (var single : Map.of(INCIDENT_VIEWER, "view:incidents", INCIDENT_RESPONDER, "manage:incidents",
                        KEY_ADMIN, "manage:keys").entrySet()) {
                    roles.put(single.getKey(), "\"permissions\": [\"" + single.getValue() + "\"], \"constraints\": {"
                            + LOOPBACK + "}");
                }
                roles.put(EDIT_ONLY, "\"permissions\": [\"edit:demographics\", \"view:all_patients\"], \"constraints\": {"
                        + LOOPBACK + "}");
                roles.put(GROUPS_ONLY, "\"permissions\": [\"view:groups\", \"view:all_patients\"], \"constraints\": {"
                        + LOOPBACK + "}");
                roles.put(ALL_DEMOGRAPHICS, "\"permissions\": [\"view:demographics\", \"view:all_patients\"], "
                        + "\"constraints\": {" + LOOPBACK + "}");
                for (var role : roles.entrySet()) {
                    Files.writeString(dir.resolve(role.getKey() + ".json"),
                            "{ \"role\": \"" + role.getKey() + "\", " + role.getValue() + " }\n");
                }
                directory = dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return directory;
    }

    /** Gives a service client roles, as an administrator would in the directory. */
    public static void grant(DataSource dataSource, String clientId, String... roles) {
        int updated = JdbcClient.create(dataSource).sql("update iam.service_client set roles = ? where client_id = ?")
                .params(roles, clientId)
                .update();
        if (updated != 1) {
            throw new IllegalStateException("no such client");
        }
    }
}
