package health.carapace.console.internal;

import health.carapace.access.Permissions;
import health.carapace.console.ConsoleApp;
import health.carapace.incident.Drills;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;

/**
 * Drills ({@code view:incidents}): the trend per scenario and the recent drills, with their time
 * to detect and to contain drawn as a chart; a scenario run on request ({@code manage:incidents}).
 * The chart is SVG made on the server from the data (no script,
 * no third-party service; the CSP allows it, styles come from the stylesheet's classes).
 */
@Controller
class DrillsPage {

    private static final String PAGE = ConsoleApp.PATH + "/drills";

    /** The chart: its size, the two series as SVG point lists, and the axis' top value in seconds. */
    public record Chart(int width, int height, String detect, String contain, long maxSeconds, List<Tick> ticks,
            String summary) {}

    /** A drill's mark on the x axis. */
    public record Tick(int x, String label) {}

    private static final int WIDTH = 640;
    private static final int HEIGHT = 240;
    private static final int LEFT = 48;
    private static final int BOTTOM = 28;
    private static final int TOP = 12;

    private final ConsoleAccess access;
    private final Drills drills;
    private final DrillRuns runs;
    private final Clock clock;

    DrillsPage(ConsoleAccess access, Drills drills, DrillRuns runs, Clock clock) {
        this.access = access;
        this.drills = drills;
        this.runs = runs;
        this.clock = clock;
    }

    @GetMapping(PAGE)
    String show(HttpServletRequest request, Model model) {
        access.require(request, Permissions.VIEW_INCIDENTS, PAGE);
        String done = new Fields(request, Set.of("done"), "done names a finished action").text("done");
        model.addAttribute("notice", "started".equals(done)
                ? "Drill started. It appears in the chart and the table once it is contained (reload the page)." : null);
        model.addAttribute("scenarios", Drills.Scenario.values());
        model.addAttribute("run", runs.last());
        Drills.Report report = drills.report(clock.instant());
        List<Drills.Result> oldestFirst = new ArrayList<>(report.recent());
        oldestFirst.sort(Comparator.comparing(Drills.Result::startedAt));
        model.addAttribute("report", report);
        model.addAttribute("recent", oldestFirst);
        model.addAttribute("chart", chart(oldestFirst));
        model.addAttribute("title", "Drills");
        return "console/drills";
    }

    /**
     * Runs a scenario ({@code manage:incidents}: the drill acknowledges, contains and closes its own
     * incident) through {@link Drills#run}, the service {@code ./carapace drill run} calls, with the
     * signed-in person as the actor, so its audit events are the CLI's. It plays in the background.
     */
    @PostMapping(PAGE + "/run")
    String run(HttpServletRequest request) {
        String actor = access.require(request, Permissions.MANAGE_INCIDENTS, PAGE + "/run").principal();
        Drills.Scenario scenario = new Fields(request, Set.of("scenario"),
                "scenario is one of vip-snooping, credential-attack, bulk-read, after-hours-break-glass")
                .parsed("scenario", code -> Drills.Scenario.of(code).orElse(null));
        if (scenario == null) {
            throw new ConsoleRefusal(400, "A field is malformed: scenario is one of vip-snooping, credential-attack, "
                    + "bulk-read, after-hours-break-glass.");
        }
        if (!runs.start(scenario, actor)) {
            throw new ConsoleRefusal(409, "A drill started from this server is still running; wait until it ends.");
        }
        return "redirect:" + PAGE + "?done=started";
    }

    /** Time to detect and to contain per drill, oldest on the left; a missing step is left out of its line. */
    static Chart chart(List<Drills.Result> results) {
        long max = 1;
        for (Drills.Result r : results) {
            max = Math.max(max, seconds(r.toDetect()));
            max = Math.max(max, seconds(r.toContain()));
        }
        StringBuilder detect = new StringBuilder();
        StringBuilder contain = new StringBuilder();
        List<Tick> ticks = new ArrayList<>();
        int n = results.size();
        int plotWidth = WIDTH - LEFT - 12;
        int plotHeight = HEIGHT - TOP - BOTTOM;
        for (int i = 0; i < n; i++) {
            Drills.Result r = results.get(i);
            int x = LEFT + (n == 1 ? plotWidth / 2 : i * plotWidth / (n - 1));
            ticks.add(new Tick(x, String.valueOf(i + 1)));
            if (r.toDetect() != null) {
                detect.append(x).append(',').append(y(seconds(r.toDetect()), max, plotHeight)).append(' ');
            }
            if (r.toContain() != null) {
                contain.append(x).append(',').append(y(seconds(r.toContain()), max, plotHeight)).append(' ');
            }
        }
        String summary = n == 0 ? "No drill has run." : "Time to detect and time to contain of the last " + n
                + " drills, oldest first; the longest took " + max + " seconds.";
        return new Chart(WIDTH, HEIGHT, detect.toString().strip(), contain.toString().strip(), max, ticks, summary);
    }

    private static long seconds(Duration d) {
        return d == null ? 0 : Math.max(0, d.toSeconds());
    }

    private static int y(long seconds, long max, int plotHeight) {
        return TOP + plotHeight - (int) (seconds * plotHeight / max);
    }
}
