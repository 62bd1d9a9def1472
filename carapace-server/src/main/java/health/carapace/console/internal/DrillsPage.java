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

/**
 * Drills ({@code view:incidents}): the trend per scenario and the recent drills, with their time
 * to detect and to contain drawn as a chart: SVG made on the server from the data (no script,
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
    private final Clock clock;

    DrillsPage(ConsoleAccess access, Drills drills, Clock clock) {
        this.access = access;
        this.drills = drills;
        this.clock = clock;
    }

    @GetMapping(PAGE)
    String show(HttpServletRequest request, Model model) {
        access.require(request, Permissions.VIEW_INCIDENTS, PAGE);
        new Fields(request, Set.of(), "the drills page takes no fields");
        Drills.Report report = drills.report(clock.instant());
        List<Drills.Result> oldestFirst = new ArrayList<>(report.recent());
        oldestFirst.sort(Comparator.comparing(Drills.Result::startedAt));
        model.addAttribute("report", report);
        model.addAttribute("recent", oldestFirst);
        model.addAttribute("chart", chart(oldestFirst));
        model.addAttribute("title", "Drills");
        return "console/drills";
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
