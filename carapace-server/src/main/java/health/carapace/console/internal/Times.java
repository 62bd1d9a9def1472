package health.carapace.console.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * How pages write times: in UTC with the zone named, inside {@code <time datetime>}; the console's
 * script (a file, allowed by the CSP) rewrites them into the viewer's own zone, naming it. Without
 * the script the page still says UTC.
 */
public final class Times {

    private static final DateTimeFormatter TEXT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")
            .withZone(ZoneOffset.UTC);

    private final Clock clock;

    Times(Clock clock) {
        this.clock = clock;
    }

    public String iso(Instant at) {
        return at == null ? "" : at.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    }

    public String text(Instant at) {
        return at == null ? "—" : TEXT.format(at);
    }

    /** "in 12 min", "3 h ago": how far a deadline or an event is from now. */
    public String fromNow(Instant at) {
        if (at == null) {
            return "";
        }
        Duration distance = Duration.between(clock.instant(), at);
        String amount = amount(distance.abs());
        return distance.isNegative() ? amount + " ago" : "in " + amount;
    }

    public boolean past(Instant at) {
        return at != null && at.isBefore(clock.instant());
    }

    private static String amount(Duration d) {
        if (d.toDays() >= 2) {
            return d.toDays() + " days";
        }
        if (d.toHours() >= 2) {
            return d.toHours() + " h";
        }
        if (d.toMinutes() >= 1) {
            return d.toMinutes() + " min";
        }
        return d.toSeconds() + " s";
    }
}
