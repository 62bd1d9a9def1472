package health.carapace.access.internal;

import health.carapace.access.Permissions;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Parses one role document, strictly: exactly the keys of the format in docs/ACCESS.md, no
 * duplicates, no unknown keys, every permission in the vocabulary, every constraint well formed.
 *
 * <pre>
 * { "role": "radiologist",
 *   "permissions": ["view:medical_images", "annotate:studies"],
 *   "constraints": { "temporal": "08:00-18:00 Mon-Fri", "ip_range": ["192.168.1.0/24"] } }
 * </pre>
 */
final class RoleDocuments {

    static final Pattern ROLE_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
    private static final Pattern PERMISSION_SHAPE = Pattern.compile("[a-z_]{1,40}:[a-z_]{1,40}");
    private static final Pattern KEY_SHAPE = Pattern.compile("[A-Za-z_]{1,40}");
    static final int MAX_DOCUMENT_BYTES = 64 * 1024;

    private static final Set<String> TOP_KEYS = Set.of("role", "permissions", "constraints");
    private static final Set<String> CONSTRAINT_KEYS = Set.of("temporal", "ip_range", "time_zone",
            "break_glass_outside_ip_range");

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private RoleDocuments() {
    }

    /**
     * @param source the file name, for messages
     * @param siteZone the site-wide time zone, used when the role names none
     * @throws PolicyException naming source, role and problem
     */
    static Role parse(String source, String json, ZoneId siteZone) {
        return parse(source, json, siteZone, null);
    }

    /**
     * A document sent to {@code PUT /admin/roles/{pathRole}}: its problems name the role by the
     * request path and the unknown keys and permissions by where they are, never by what the
     * document says (a refusal echoes nothing of the request; found by fuzzing).
     */
    static Role parseSent(String source, String pathRole, String json, ZoneId siteZone) {
        return parse(source, json, siteZone, pathRole);
    }

    private static Role parse(String source, String json, ZoneId siteZone, String sentTo) {
        Problems problems = new Problems(source, sentTo);
        boolean quote = sentTo == null;
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            // Parser messages quote the input; say only where and, for duplicates, what.
            String what = e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate")
                    ? "a key appears twice" : "not valid JSON";
            int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
            throw problems.fail(null, what + (line > 0 ? " (line " + line + ")" : ""));
        }
        if (root == null || !root.isObject()) {
            throw problems.fail(null, "a role document is a JSON object");
        }
        JsonNode nameNode = root.get("role");
        String name = nameNode != null && nameNode.isString() ? nameNode.stringValue() : null;
        if (name == null) {
            problems.add(null, "\"role\" (a string) is missing");
        } else if (!ROLE_NAME.matcher(name).matches()) {
            problems.add(null, "\"role\" must be 1-63 characters: lower-case letters, digits, '-' and '_', starting with a letter");
            name = null;
        }
        for (String key : root.propertyNames()) {
            if (!TOP_KEYS.contains(key)) {
                problems.add(name, "unknown key " + (quote ? quoteKey(key) + " " : "")
                        + "(allowed: role, permissions, constraints)");
            }
        }
        Set<String> permissions = new LinkedHashSet<>();
        JsonNode perms = root.get("permissions");
        if (perms == null) {
            problems.add(name, "\"permissions\" (a list) is missing");
        } else if (!perms.isArray() || perms.isEmpty()) {
            problems.add(name, "\"permissions\" must be a non-empty list of strings");
        } else {
            int index = 0;
            for (JsonNode p : perms) {
                index++;
                if (!p.isString()) {
                    problems.add(name, "\"permissions\" must hold strings only");
                } else if (!PermissionVocabulary.isKnown(p.stringValue())) {
                    problems.add(name, "unknown permission " + (quote ? quotePermission(p.stringValue())
                            : "(\"permissions\" entry " + index + ")") + " (see the vocabulary in docs/ACCESS.md)");
                } else if (!permissions.add(p.stringValue())) {
                    problems.add(name, "permission \"" + p.stringValue() + "\" is listed twice");
                }
            }
        }
        if ((permissions.contains(Permissions.VIEW_GROUPS) || permissions.contains(Permissions.EDIT_GROUPS))
                && !permissions.contains(Permissions.VIEW_ALL_PATIENTS)) {
            // A Group is shown whole: its reader sees every member, so only a role that reaches
            // every patient may read or change one (ADR 0027).
            problems.add(name, "\"view:groups\" and \"edit:groups\" need \"view:all_patients\" in the same role");
        }
        TimeWindow window = null;
        ZoneId zone = siteZone;
        List<CidrBlock> ranges = null;
        boolean breakGlassOutside = false;
        JsonNode constraints = root.get("constraints");
        if (constraints != null) {
            if (!constraints.isObject()) {
                problems.add(name, "\"constraints\" must be an object");
            } else {
                for (String key : constraints.propertyNames()) {
                    if (!CONSTRAINT_KEYS.contains(key)) {
                        problems.add(name, "unknown constraint " + (quote ? quoteKey(key) + " " : "")
                                + "(allowed: temporal, ip_range, time_zone, break_glass_outside_ip_range)");
                    }
                }
                JsonNode temporal = constraints.get("temporal");
                if (temporal != null) {
                    if (!temporal.isString()) {
                        problems.add(name, "\"temporal\" must be a string like \"08:00-18:00 Mon-Fri\"");
                    } else {
                        try {
                            window = TimeWindow.parse(temporal.stringValue());
                        } catch (IllegalArgumentException e) {
                            problems.add(name, "bad time window: " + e.getMessage());
                        }
                    }
                }
                JsonNode zoneNode = constraints.get("time_zone");
                if (zoneNode != null) {
                    if (temporal == null) {
                        problems.add(name, "\"time_zone\" without \"temporal\" has no effect");
                    }
                    if (!zoneNode.isString()) {
                        problems.add(name, "\"time_zone\" must be a string like \"Europe/Berlin\"");
                    } else {
                        try {
                            zone = ZoneId.of(zoneNode.stringValue());
                        } catch (DateTimeException e) {
                            problems.add(name, "unknown time zone in \"time_zone\" (use an IANA name like America/New_York)");
                        }
                    }
                }
                JsonNode ip = constraints.get("ip_range");
                if (ip != null) {
                    if (!ip.isArray() || ip.isEmpty()) {
                        problems.add(name, "\"ip_range\" must be a non-empty list of CIDRs (omit it to allow any address)");
                    } else {
                        ranges = new ArrayList<>();
                        int index = 0;
                        for (JsonNode entry : ip) {
                            index++;
                            if (!entry.isString()) {
                                problems.add(name, "\"ip_range\" entry " + index + " is not a string");
                                continue;
                            }
                            try {
                                ranges.add(CidrBlock.parse(entry.stringValue()));
                            } catch (IllegalArgumentException e) {
                                problems.add(name, "bad CIDR in \"ip_range\" entry " + index + ": " + e.getMessage());
                            }
                        }
                    }
                }
                JsonNode breakGlass = constraints.get("break_glass_outside_ip_range");
                if (breakGlass != null) {
                    if (!breakGlass.isBoolean()) {
                        problems.add(name, "\"break_glass_outside_ip_range\" must be true or false");
                    } else {
                        breakGlassOutside = breakGlass.booleanValue();
                        if (ip == null) {
                            problems.add(name, "\"break_glass_outside_ip_range\" without \"ip_range\" has no effect");
                        }
                    }
                }
            }
        }
        problems.throwIfAny();
        return new Role(name, permissions, window, zone, ranges, breakGlassOutside, source, json);
    }

    private static String quoteKey(String key) {
        return KEY_SHAPE.matcher(key).matches() ? "\"" + key + "\"" : "(not a plain name)";
    }

    private static String quotePermission(String permission) {
        return PERMISSION_SHAPE.matcher(permission).matches() ? "\"" + permission + "\"" : "(not of the form action:object)";
    }

    /** Collects problems for one file, each prefixed with the file and the role. */
    static final class Problems {
        private final String source;
        /** The role the request path names, for a sent document; null for a file. */
        private final String sentTo;
        private final List<String> list = new ArrayList<>();

        Problems(String source) {
            this(source, null);
        }

        Problems(String source, String sentTo) {
            this.source = source;
            this.sentTo = sentTo;
        }

        void add(String role, String problem) {
            list.add(prefix(source, sentTo != null ? sentTo : role) + problem);
        }

        PolicyException fail(String role, String problem) {
            add(role, problem);
            return new PolicyException(list);
        }

        void throwIfAny() {
            if (!list.isEmpty()) {
                throw new PolicyException(list);
            }
        }
    }

    static String prefix(String source, String role) {
        return source + ": role " + (role == null ? "(unnamed)" : "\"" + role + "\"") + ": ";
    }
}
