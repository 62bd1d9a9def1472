package health.carapace.access.internal;

import java.time.ZoneId;
import java.util.Map;
import java.util.TreeMap;

/** The loaded policy at one moment: immutable, swapped as a whole on reload. */
record PolicySnapshot(Map<String, Role> roles, ZoneId siteZone) {

    PolicySnapshot {
        roles = Map.copyOf(roles);
    }

    static PolicySnapshot empty(ZoneId siteZone) {
        return new PolicySnapshot(Map.of(), siteZone);
    }

    Role role(String name) {
        return roles.get(name);
    }

    /** Role names in order, for listings and reports. */
    Iterable<String> names() {
        return new TreeMap<>(roles).keySet();
    }
}
