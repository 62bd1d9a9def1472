package health.carapace.incident;

import java.util.EnumSet;
import java.util.Set;

/**
 * Where an incident is in its response: open → acknowledged → contained → resolved → closed.
 * Acknowledging may be skipped (containment is urgent); an incident judged a false positive may be
 * closed from any state before it is closed. Anything else is an illegal transition.
 */
public enum IncidentState {
    OPEN, ACKNOWLEDGED, CONTAINED, RESOLVED, CLOSED;

    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static IncidentState of(String code) {
        return valueOf(code.toUpperCase(java.util.Locale.ROOT));
    }

    /** The states this one may move to. */
    public Set<IncidentState> next() {
        return switch (this) {
            case OPEN -> EnumSet.of(ACKNOWLEDGED, CONTAINED, CLOSED);
            case ACKNOWLEDGED -> EnumSet.of(CONTAINED, CLOSED);
            case CONTAINED -> EnumSet.of(CONTAINED, RESOLVED, CLOSED);
            case RESOLVED -> EnumSet.of(CLOSED);
            case CLOSED -> EnumSet.noneOf(IncidentState.class);
        };
    }

    /** Whether the incident still needs someone: not yet resolved or closed. */
    public boolean open() {
        return this != RESOLVED && this != CLOSED;
    }

    public boolean mayMoveTo(IncidentState target) {
        return next().contains(target);
    }
}
