package health.carapace.console.internal;

import health.carapace.incident.Drills;
import health.carapace.incident.Incidents;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;

/**
 * Drills started from the console: played by {@link Drills#run}, the service {@code ./carapace drill
 * run} calls, against this server's public address over HTTPS (as any client would reach it), with
 * the person who started it as the actor. A drill takes as long as detection does (up to the
 * detection timeout), longer than a page should wait, so it runs on one thread of its own: the
 * page answers at once and shows the drill while it runs, and its result in the chart and table
 * once it is stored. One drill at a time on a node; a second is refused while one runs.
 */
final class DrillRuns implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(DrillRuns.class);

    /** A drill this node started from the console: running ({@code finishedAt} null), or how it ended. */
    public record Run(Drills.Scenario scenario, String startedBy, Instant startedAt, Instant finishedAt, String outcome,
            String problem) {

        public boolean running() {
            return finishedAt == null;
        }
    }

    private final Drills drills;
    private final Supplier<URI> server;
    private final Supplier<SSLContext> tls;
    private final String role;
    private final Duration detectionTimeout;
    private final Clock clock;
    private final ExecutorService runner = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "console-drill");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicReference<Run> last = new AtomicReference<>();

    /**
     * @param server the server's public address (the drill plays over HTTPS there)
     * @param tls trusts the JDK's authorities and this server's own certificate (made on first use)
     * @param role the policy role of the drill's synthetic principals ({@code drill run --role})
     */
    DrillRuns(Drills drills, Supplier<URI> server, Supplier<SSLContext> tls, String role, Duration detectionTimeout,
            Clock clock) {
        this.drills = drills;
        this.server = server;
        this.tls = tls;
        this.role = role;
        this.detectionTimeout = detectionTimeout;
        this.clock = clock;
    }

    /** The drill started here last, if any (running or ended). */
    Run last() {
        return last.get();
    }

    /**
     * Starts a drill of {@code scenario} by {@code actor}.
     *
     * @return false if a drill started here is still running (nothing started)
     */
    boolean start(Drills.Scenario scenario, String actor) {
        Run started = new Run(scenario, actor, clock.instant(), null, null, null);
        Run before = last.get();
        if (before != null && before.running() || !last.compareAndSet(before, started)) {
            return false;
        }
        runner.execute(() -> play(started));
        return true;
    }

    private void play(Run started) {
        String outcome = null;
        String problem = null;
        try {
            Drills.Options options = new Drills.Options(server.get(), tls.get(), role, detectionTimeout, false, Duration.ZERO);
            outcome = drills.run(started.scenario(), options, started.startedBy()).outcome();
        } catch (Incidents.Refused refused) {
            // the drill service's own words (a role not in the directory, the server unreachable): no input in them
            problem = refused.getMessage();
        } catch (RuntimeException e) {
            log.warn("A drill started from the console failed ({})", e.getClass().getSimpleName());
            problem = "the drill failed; the server's log has the cause";
        } finally {
            last.set(new Run(started.scenario(), started.startedBy(), started.startedAt(), clock.instant(),
                    outcome == null && problem == null ? "stopped" : outcome, problem));
        }
    }

    @Override
    public void destroy() {
        runner.shutdownNow();
    }
}
