package health.carapace.access.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.access.AccessRequest;
import health.carapace.access.Caller;
import health.carapace.access.ClientAddress;
import health.carapace.access.Interaction;
import health.carapace.access.PatientRelation;
import health.carapace.access.Permissions;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cost access control adds to one request: the client address (X-Forwarded-For through a
 * trusted proxy), one decision, and the two {@code grants} questions the enforcement point asks
 * (view:all_patients for scoping, view:ssn for masking). Every call is timed on its own into an
 * HdrHistogram, after a warm-up, over a policy of 200 roles and callers holding 3 roles each, with
 * requests drawn at random over types, interactions, relations, times and addresses. Excluded from
 * the normal build; prints lines starting "MEASURED" (docs/BENCHMARKS.md).
 */
@Tag("measurement")
class AccessDecisionMeasurement {

    private static final int WARM_UP = 2_000_000;
    private static final int MEASURED = 2_000_000;

    @TempDir
    Path dir;

    @Test
    void accessControlAddsWellUnderAMillisecondAtP99() throws Exception {
        String[] permissions = PermissionVocabulary.names().toArray(String[]::new);
        Random random = new Random(42);
        for (int i = 0; i < 200; i++) {
            List<String> granted = new ArrayList<>();
            for (int p = 0; p < 6; p++) {
                String permission = permissions[random.nextInt(permissions.length)];
                if (!granted.contains(permission)) {
                    granted.add(permission);
                }
            }
            String zone = i % 3 == 0 ? ",\"time_zone\":\"America/New_York\"" : "";
            Files.writeString(dir.resolve("role-" + i + ".json"), "{\"role\":\"role-" + i + "\",\"permissions\":[\""
                    + String.join("\",\"", granted) + "\"],\"constraints\":{\"temporal\":\""
                    + (i % 2 == 0 ? "07:00-19:00 Mon-Fri" : "22:00-06:00 Fri-Mon") + "\"" + zone
                    + ",\"ip_range\":[\"10.0.0.0/8\",\"192.168.0.0/16\",\"2001:db8::/32\"]}}");
        }
        RolePolicy policy = new RolePolicy(new PolicyDirectory(dir, ZoneId.of("Europe/Berlin")).load());
        ClientAddress clientAddress = new AccessPolicyConfiguration().clientAddress("172.16.0.0/12, fd00::/8");

        int n = 4096;
        Caller[] callers = new Caller[n];
        Interaction[] interactions = new Interaction[n];
        String[] types = new String[n];
        String[] categories = new String[n];
        String[] peers = new String[n];
        List<List<String>> forwarded = new ArrayList<>();
        Instant[] times = new Instant[n];
        PatientRelation[] relations = new PatientRelation[n];
        String[] allTypes = {"Patient", "Observation", "ImagingStudy", "DocumentReference", "MedicationRequest",
                "Practitioner", "Encounter", "CareTeam", "AuditEvent"};
        Instant base = Instant.parse("2026-11-23T00:00:00Z");
        for (int i = 0; i < n; i++) {
            Set<String> roles = new java.util.HashSet<>();
            while (roles.size() < 3) {
                roles.add("role-" + random.nextInt(200));
            }
            callers[i] = new Caller("u" + i, Caller.Kind.USER, roles, null);
            interactions[i] = Interaction.values()[random.nextInt(Interaction.values().length)];
            types[i] = allTypes[random.nextInt(allTypes.length)];
            categories[i] = random.nextBoolean() ? "imaging" : null;
            boolean proxied = random.nextBoolean();
            peers[i] = proxied ? "172.16.0.2" : "10.1." + random.nextInt(256) + "." + random.nextInt(256);
            forwarded.add(proxied ? List.of("203.0.113." + random.nextInt(256) + ", 192.168.1." + random.nextInt(256))
                    : List.of());
            times[i] = base.plusSeconds(random.nextInt(7 * 24 * 3600));
            relations[i] = PatientRelation.values()[random.nextInt(PatientRelation.values().length)];
        }

        Histogram resolve = new Histogram(3_600_000_000L, 3);
        Histogram decide = new Histogram(3_600_000_000L, 3);
        Histogram request = new Histogram(3_600_000_000L, 3);
        long allowed = 0;
        for (int round = 0; round < 2; round++) {
            boolean record = round == 1;
            int calls = record ? MEASURED : WARM_UP;
            resolve.reset();
            decide.reset();
            request.reset();
            for (int c = 0; c < calls; c++) {
                int i = c & (n - 1);
                long t0 = System.nanoTime();
                InetAddress address = clientAddress.resolve(peers[i], forwarded.get(i));
                long t1 = System.nanoTime();
                var decision = policy.decide(new AccessRequest(callers[i], interactions[i], types[i], categories[i],
                        address, times[i], relations[i]));
                long t2 = System.nanoTime();
                boolean all = policy.grants(callers[i], Permissions.VIEW_ALL_PATIENTS, address, times[i]);
                boolean ssn = policy.grants(callers[i], Permissions.VIEW_SSN, address, times[i]);
                long t3 = System.nanoTime();
                if (record && (decision.allowed() | all | ssn)) {
                    allowed++;
                }
                resolve.recordValue(t1 - t0);
                decide.recordValue(t2 - t1);
                request.recordValue(t3 - t0);
            }
        }
        print("client address (X-Forwarded-For, half through a trusted proxy)", resolve);
        print("decide()", decide);
        print("per request: address + decide() + 2 x grants()", request);
        System.out.println("MEASURED requests allowed or granted something: " + (allowed * 100 / MEASURED) + "%");
        assertThat(allowed).isPositive();
        assertThat(request.getValueAtPercentile(99)).as("p99 ns").isLessThan(1_000_000L);
    }

    private static void print(String what, Histogram h) {
        System.out.printf("MEASURED %s: p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.1f us over %d calls%n", what,
                h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
                h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0, h.getTotalCount());
    }
}
