package health.carapace.access.internal;

import java.net.InetAddress;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Set;

/**
 * One loaded role: its permissions and constraints, immutable.
 *
 * @param timeWindow null: any time
 * @param timeZone the zone the window is read in (the role's own, else the site's)
 * @param ipRanges null: any address
 * @param breakGlassOutsideIpRange whether break-glass may be used from outside {@code ipRanges}
 * @param source the file the role was loaded from (for messages and reports)
 * @param document the role document as stored
 */
record Role(String name, Set<String> permissions, TimeWindow timeWindow, ZoneId timeZone, List<CidrBlock> ipRanges,
        boolean breakGlassOutsideIpRange, String source, String document) {

    Role {
        permissions = Set.copyOf(permissions);
        ipRanges = ipRanges == null ? null : List.copyOf(ipRanges);
    }

    boolean addressAllowed(InetAddress address) {
        if (ipRanges == null) {
            return true;
        }
        for (CidrBlock block : ipRanges) {
            if (block.contains(address)) {
                return true;
            }
        }
        return false;
    }

    boolean timeAllowed(Instant at) {
        if (timeWindow == null) {
            return true;
        }
        LocalDateTime local = LocalDateTime.ofInstant(at, timeZone);
        return timeWindow.contains(local.getDayOfWeek(), local.getHour() * 60 + local.getMinute());
    }

    /** A role with neither a time window nor an IP range: allowed, but listed by access reports. */
    boolean unconstrained() {
        return timeWindow == null && ipRanges == null;
    }
}
