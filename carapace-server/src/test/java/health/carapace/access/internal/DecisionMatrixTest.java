package health.carapace.access.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.access.AccessDecision;
import health.carapace.access.AccessRequest;
import health.carapace.access.Caller;
import health.carapace.access.ClientAddress;
import health.carapace.access.Interaction;
import health.carapace.access.PatientRelation;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decision matrix: callers (role sets) × time of day × client address × care relation ×
 * interaction × resource type, the production decision point (roles loaded from files by the real
 * loader, address through the real {@link ClientAddress}) against an oracle written here from the
 * rules in docs/ACCESS.md, deliberately another way: time windows as a table of the 10080 minutes
 * of a week filled by walking each shift minute by minute, the local minute from the zone offset and
 * epoch arithmetic, addresses as unsigned integers compared after a shift, its own small
 * vocabulary and its own X-Forwarded-For walk. One dynamic test per caller × time × address checks
 * every relation × interaction × resource type and lists every mismatch.
 */
class DecisionMatrixTest {

    private static final ZoneId SITE = ZoneId.of("Europe/Berlin");
    private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
    private static final String TRUSTED_PROXIES = "172.16.0.0/12";

    /** The role documents, and the oracle's own reading of them. */
    private static final List<OracleRole> ROLES = List.of(
            new OracleRole("radiologist", Set.of("view:medical_images", "annotate:studies"),
                    "08:00", "18:00", List.of("Mon", "Tue", "Wed", "Thu", "Fri"), "Mon-Fri", null,
                    List.of("192.168.1.0/24", "2001:db8:1::/48"), false),
            new OracleRole("night-nurse", Set.of("view:demographics", "view:clinical_notes", "edit:medications"),
                    "22:00", "06:00", List.of("Fri", "Sat"), "Fri,Sat", NEW_YORK, List.of("10.0.0.0/8"), true),
            new OracleRole("registrar", Set.of("view:demographics", "view:directory", "view:all_patients"),
                    "09:00", "17:00", List.of("Fri", "Sat", "Sun", "Mon"), "Fri-Mon", null, null, false),
            new OracleRole("imaging-anytime", Set.of("view:medical_images", "view:all_patients"),
                    null, null, null, null, null, List.of("192.168.1.128/25"), false));

    private static final List<Set<String>> CALLERS = List.of(
            Set.of("radiologist"), Set.of("night-nurse"), Set.of("registrar"), Set.of("radiologist", "imaging-anytime"),
            Set.of("ghost"), Set.of(), Set.of("ghost", "night-nurse"));

    private static final Map<String, Instant> TIMES = new LinkedHashMap<>();

    static {
        berlin("Wed 10:00 (inside)", "2026-11-25T10:00");
        berlin("Wed 07:59 (one minute before start)", "2026-11-25T07:59");
        berlin("Wed 08:00 (exactly at start)", "2026-11-25T08:00");
        berlin("Wed 17:59 (one minute before end)", "2026-11-25T17:59");
        berlin("Wed 18:00 (at end)", "2026-11-25T18:00");
        berlin("Sat 10:00 (day outside Mon-Fri, inside Fri-Mon)", "2026-11-28T10:00");
        berlin("Mon 09:00 (Fri-Mon wraps)", "2026-11-30T09:00");
        berlin("Tue 10:00 (outside Fri-Mon)", "2026-12-01T10:00");
        berlin("Wed 03:00 (night)", "2026-11-25T03:00");
        newYork("NY Fri 21:59 (before the night shift)", "2026-11-27T21:59");
        newYork("NY Fri 22:00 (night shift starts)", "2026-11-27T22:00");
        newYork("NY Sat 05:59 (after midnight, Friday's shift)", "2026-11-28T05:59");
        newYork("NY Sat 06:00 (night shift ends)", "2026-11-28T06:00");
        newYork("NY Mon 03:00 (Sunday's shift was never granted)", "2026-11-30T03:00");
        newYork("NY Sun 00:30 (Saturday's shift)", "2026-11-29T00:30");
        // DST: New York springs forward on Sun 2026-03-08 at 02:00 and falls back on Sun 2026-11-01.
        TIMES.put("DST spring: 07:30Z = 03:30 EDT (inside)", Instant.parse("2026-03-08T07:30:00Z"));
        TIMES.put("DST spring: 10:30Z = 06:30 EDT (outside; 05:30 if EST were assumed)", Instant.parse("2026-03-08T10:30:00Z"));
        TIMES.put("DST fall: 10:30Z = 05:30 EST (inside; 06:30 if EDT were assumed)", Instant.parse("2026-11-01T10:30:00Z"));
        TIMES.put("DST fall: 05:30Z = 01:30 EDT, first pass (inside)", Instant.parse("2026-11-01T05:30:00Z"));
        TIMES.put("DST fall: 06:30Z = 01:30 EST, second pass (inside)", Instant.parse("2026-11-01T06:30:00Z"));
    }

    /** Peer address and X-Forwarded-For values as the servlet container would report them. */
    private record Address(String label, String peer, List<String> forwardedFor) {}

    private static final List<Address> ADDRESSES = List.of(
            new Address("IPv4 inside /24, outside /25", "192.168.1.20", List.of()),
            new Address("IPv4 inside /24 and /25", "192.168.1.200", List.of()),
            new Address("IPv4 inside 10/8", "10.1.2.3", List.of()),
            new Address("IPv4 outside every range", "203.0.113.9", List.of()),
            new Address("IPv6 inside 2001:db8:1::/48", "2001:db8:1:0:0:0:0:5", List.of()),
            new Address("IPv6 outside", "2001:db8:2::5", List.of()),
            new Address("IPv6 loopback", "::1", List.of()),
            new Address("IPv4-mapped IPv6 inside /24", "::ffff:192.168.1.20", List.of()),
            new Address("spoofed X-Forwarded-For from an untrusted peer", "203.0.113.9", List.of("192.168.1.20")),
            new Address("X-Forwarded-For through a trusted proxy", "172.16.0.2", List.of("198.51.100.7, 192.168.1.20")),
            new Address("X-Forwarded-For through two trusted proxies", "172.16.0.2",
                    List.of("10.9.9.9", "192.168.1.200, 172.16.0.3")),
            new Address("malformed X-Forwarded-For through a trusted proxy", "172.16.0.2", List.of("192.168.1.20:443")),
            new Address("X-Forwarded-For of trusted proxies only", "172.16.0.2", List.of("172.20.0.1")));

    /** Resource type and category of a request. */
    private record Target(String type, String category) {}

    private static final List<Target> TARGETS = List.of(new Target("ImagingStudy", null),
            new Target("DocumentReference", "imaging"), new Target("DocumentReference", null),
            new Target("DocumentReference", "clinical-note"), new Target("Patient", null),
            new Target("Practitioner", null), new Target("MedicationRequest", null), new Target("Basic", null));

    @TempDir
    static Path policyDir;

    private static RolePolicy policy;
    private static ClientAddress clientAddress;

    @BeforeAll
    static void loadPolicy() throws Exception {
        for (OracleRole role : ROLES) {
            Files.writeString(policyDir.resolve(role.name + ".json"), role.document());
        }
        policy = new RolePolicy(new PolicyDirectory(policyDir, SITE).load());
        clientAddress = new AccessPolicyConfiguration().clientAddress(TRUSTED_PROXIES);
    }

    @TestFactory
    Stream<DynamicTest> everyDecisionMatchesTheOracle() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Set<String> roles : CALLERS) {
            for (Map.Entry<String, Instant> time : TIMES.entrySet()) {
                for (Address address : ADDRESSES) {
                    tests.add(DynamicTest.dynamicTest(roles + " at " + time.getKey() + " from " + address.label(),
                            () -> checkAll(roles, time.getValue(), address)));
                }
            }
        }
        return tests.stream();
    }

    private static void checkAll(Set<String> roles, Instant at, Address address) throws Exception {
        Caller caller = new Caller("matrix", Caller.Kind.USER, roles, null);
        InetAddress resolved = clientAddress.resolve(address.peer(), address.forwardedFor());
        byte[] oracleAddress = Oracle.clientAddress(address.peer(), address.forwardedFor());
        assertThat(Oracle.canonical(resolved.getAddress())).as("client address").isEqualTo(oracleAddress);
        List<String> mismatches = new ArrayList<>();
        int checked = 0;
        for (PatientRelation relation : PatientRelation.values()) {
            for (Interaction interaction : Interaction.values()) {
                for (Target target : TARGETS) {
                    AccessDecision actual = policy.decide(new AccessRequest(caller, interaction, target.type(),
                            target.category(), resolved, at, relation));
                    AccessDecision expected = Oracle.decide(roles, interaction, target, oracleAddress, at, relation);
                    checked++;
                    if (!actual.equals(expected)) {
                        mismatches.add(relation + " " + interaction + " " + target + ": expected " + expected
                                + " got " + actual);
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(PatientRelation.values().length * Interaction.values().length * TARGETS.size());
        assertThat(mismatches).isEmpty();
    }

    /** The test's own view of the cross product's coverage: some allowed, some denied, every reason. */
    @TestFactory
    Stream<DynamicTest> theMatrixCoversEveryOutcome() {
        return Stream.of(DynamicTest.dynamicTest("every reason code occurs", () -> {
            Set<String> reasons = new HashSet<>();
            boolean breakGlass = false;
            for (Set<String> roles : CALLERS) {
                for (Instant at : TIMES.values()) {
                    for (Address address : ADDRESSES) {
                        byte[] a = Oracle.clientAddress(address.peer(), address.forwardedFor());
                        for (PatientRelation relation : PatientRelation.values()) {
                            for (Interaction interaction : Interaction.values()) {
                                for (Target target : TARGETS) {
                                    AccessDecision d = Oracle.decide(roles, interaction, target, a, at, relation);
                                    reasons.add(d.reason());
                                    breakGlass |= d.breakGlass();
                                }
                            }
                        }
                    }
                }
            }
            assertThat(reasons).containsExactlyInAnyOrder("allowed", "break-glass", "no-role", "unknown-role",
                    "no-permission", "outside-ip-range", "outside-time-window", "no-care-relationship");
            assertThat(breakGlass).isTrue();
        }));
    }

    private static void berlin(String label, String local) {
        TIMES.put(label, LocalDateTime.parse(local).atZone(SITE).toInstant());
    }

    private static void newYork(String label, String local) {
        TIMES.put(label, LocalDateTime.parse(local).atZone(NEW_YORK).toInstant());
    }

    /** A role as written in its document, and as the oracle reads it. */
    private record OracleRole(String name, Set<String> permissions, String start, String end, List<String> days,
            String daysText, ZoneId zone, List<String> cidrs, boolean breakGlassOutside) {

        String document() {
            StringBuilder c = new StringBuilder();
            if (start != null) {
                c.append("\"temporal\":\"").append(start).append('-').append(end).append(' ').append(daysText).append('"');
            }
            if (zone != null) {
                c.append(",\"time_zone\":\"").append(zone.getId()).append('"');
            }
            if (cidrs != null) {
                c.append(c.length() > 0 ? "," : "").append("\"ip_range\":[\"").append(String.join("\",\"", cidrs)).append("\"]");
            }
            if (breakGlassOutside) {
                c.append(",\"break_glass_outside_ip_range\":true");
            }
            return "{\"role\":\"" + name + "\",\"permissions\":[\"" + String.join("\",\"", permissions) + "\"]"
                    + (c.length() > 0 ? ",\"constraints\":{" + c + "}" : "") + "}";
        }
    }

    /** The independent implementation. */
    private static final class Oracle {

        private static final List<String> WEEK = List.of("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun");
        private static final Set<Interaction> VIEW = Set.of(Interaction.READ, Interaction.VREAD, Interaction.SEARCH,
                Interaction.HISTORY);
        private static final Set<Interaction> WRITE = Set.of(Interaction.CREATE, Interaction.UPDATE, Interaction.PATCH,
                Interaction.DELETE);

        /** Which of the permissions used here opens the interaction on the target (docs/ACCESS.md, by hand). */
        static boolean opens(String permission, Interaction interaction, Target target) {
            boolean imagingDocument = target.type().equals("DocumentReference") && "imaging".equals(target.category());
            boolean otherDocument = target.type().equals("DocumentReference") && !"imaging".equals(target.category());
            boolean imaging = target.type().equals("ImagingStudy") || imagingDocument;
            return switch (permission) {
                case "view:medical_images" -> imaging && VIEW.contains(interaction);
                case "annotate:studies" -> imaging && (interaction == Interaction.UPDATE || interaction == Interaction.PATCH);
                case "view:clinical_notes" -> otherDocument && VIEW.contains(interaction);
                case "view:demographics" -> target.type().equals("Patient") && VIEW.contains(interaction);
                case "edit:medications" -> target.type().equals("MedicationRequest") && WRITE.contains(interaction);
                case "view:directory" -> target.type().equals("Practitioner") && VIEW.contains(interaction);
                default -> false;
            };
        }

        static AccessDecision decide(Set<String> callerRoles, Interaction interaction, Target target, byte[] address,
                Instant at, PatientRelation relation) {
            if (callerRoles.isEmpty()) {
                return AccessDecision.deny("no-role");
            }
            List<OracleRole> holders = new ArrayList<>();
            boolean unknown = false;
            for (String name : callerRoles) {
                OracleRole role = ROLES.stream().filter(r -> r.name.equals(name)).findFirst().orElse(null);
                if (role == null) {
                    unknown = true;
                } else if (role.permissions.stream().anyMatch(p -> opens(p, interaction, target))) {
                    holders.add(role);
                }
            }
            if (holders.isEmpty()) {
                return AccessDecision.deny(unknown ? "unknown-role" : "no-permission");
            }
            List<OracleRole> active = holders.stream().filter(r -> inRange(r, address) && inWindow(r, at)).toList();
            boolean activeAllPatients = active.stream().anyMatch(r -> r.permissions.contains("view:all_patients"));
            switch (relation) {
                case NOT_PATIENT_DATA, CARE_RELATIONSHIP:
                    if (!active.isEmpty()) {
                        return AccessDecision.allow();
                    }
                    break;
                case NONE:
                    if (activeAllPatients) {
                        return AccessDecision.allow();
                    }
                    if (!active.isEmpty()) {
                        return AccessDecision.deny("no-care-relationship");
                    }
                    break;
                case BREAK_GLASS:
                    if (activeAllPatients) {
                        return AccessDecision.allow();
                    }
                    if (holders.stream().anyMatch(r -> r.breakGlassOutside || inRange(r, address))) {
                        return new AccessDecision(true, "break-glass", true);
                    }
                    return AccessDecision.deny("outside-ip-range");
            }
            return AccessDecision.deny(holders.stream().anyMatch(r -> inRange(r, address))
                    ? "outside-time-window" : "outside-ip-range");
        }

        /** Every minute of the week (Monday 00:00 = 0) on which the role's window is open. */
        static boolean[] minutesOfWeek(OracleRole role) {
            boolean[] open = new boolean[7 * 1440];
            int start = minutes(role.start);
            int end = minutes(role.end);
            int length = end > start ? end - start : end + 1440 - start;
            for (String day : role.days) {
                int first = WEEK.indexOf(day) * 1440 + start;
                for (int i = 0; i < length; i++) {
                    open[(first + i) % open.length] = true;
                }
            }
            return open;
        }

        static boolean inWindow(OracleRole role, Instant at) {
            if (role.start == null) {
                return true;
            }
            ZoneId zone = role.zone == null ? SITE : role.zone;
            long local = at.getEpochSecond() + zone.getRules().getOffset(at).getTotalSeconds();
            long day = Math.floorDiv(local, 86_400L);
            int weekday = (int) Math.floorMod(day + 3, 7L); // 1970-01-01 was a Thursday (index 3)
            int minuteOfDay = (int) Math.floorMod(Math.floorDiv(local, 60L), 1440L);
            return minutesOfWeek(role)[weekday * 1440 + minuteOfDay];
        }

        private static int minutes(String hhmm) {
            String[] parts = hhmm.split(":");
            return Integer.parseInt(parts[0]) * 60 + Integer.parseInt(parts[1]);
        }

        static boolean inRange(OracleRole role, byte[] address) {
            if (role.cidrs == null) {
                return true;
            }
            for (String cidr : role.cidrs) {
                String[] parts = cidr.split("/");
                byte[] network = bytes(parts[0]);
                int prefix = Integer.parseInt(parts[1]);
                if (network.length != address.length) {
                    continue;
                }
                int drop = network.length * 8 - prefix;
                if (new BigInteger(1, network).shiftRight(drop).equals(new BigInteger(1, address).shiftRight(drop))) {
                    return true;
                }
            }
            return false;
        }

        /** The oracle's X-Forwarded-For rule: from the right, skipping trusted proxies, only behind one. */
        static byte[] clientAddress(String peer, List<String> forwardedFor) throws Exception {
            byte[] peerBytes = bytes(peer);
            if (forwardedFor.isEmpty() || !trusted(peerBytes)) {
                return peerBytes;
            }
            List<String> hops = new ArrayList<>();
            for (String header : forwardedFor) {
                hops.addAll(Arrays.asList(header.split(",")));
            }
            byte[] last = peerBytes;
            for (int i = hops.size() - 1; i >= 0; i--) {
                String hop = hops.get(i).trim();
                if (!hop.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*") || hop.matches(".*\\d:\\d+$") && hop.contains(".")) {
                    return peerBytes;
                }
                last = bytes(hop);
                if (!trusted(last)) {
                    return last;
                }
            }
            return last;
        }

        private static boolean trusted(byte[] address) {
            return address.length == 4 && (address[0] & 0xFF) == 172 && (address[1] & 0xF0) == 16;
        }

        /** Address bytes of a literal (test data only: never a host name), IPv4-mapped as IPv4. */
        static byte[] bytes(String literal) {
            try {
                return canonical(InetAddress.getByName(literal).getAddress());
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException(e);
            }
        }

        static byte[] canonical(byte[] b) {
            if (b.length == 16) {
                boolean mapped = b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
                for (int i = 0; i < 10; i++) {
                    mapped &= b[i] == 0;
                }
                if (mapped) {
                    return Arrays.copyOfRange(b, 12, 16);
                }
            }
            return b;
        }
    }
}
