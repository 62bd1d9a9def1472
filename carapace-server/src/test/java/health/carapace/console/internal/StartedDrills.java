package health.carapace.console.internal;

import java.time.Instant;
import java.util.Optional;
import org.springframework.context.ApplicationContext;

/**
 * The drill this node last started from the console ({@link DrillRuns#last}), for tests outside
 * the package: whether a refused request started one is seen where a run is started, not guessed
 * from audit events a drill writes only some time after it starts.
 */
public final class StartedDrills {

    /** Who started the drill and when. */
    public record Started(String by, Instant at) {}

    private StartedDrills() {
    }

    public static Optional<Started> last(ApplicationContext context) {
        DrillRuns.Run run = context.getBean(DrillRuns.class).last();
        return run == null ? Optional.empty() : Optional.of(new Started(run.startedBy(), run.startedAt()));
    }
}
