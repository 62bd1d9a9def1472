package health.carapace.cli;

import health.carapace.incident.Drills;
import java.time.Duration;
import java.time.Instant;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "report", mixinStandardHelpOptions = true,
        description = "The drills' trend per scenario (mean time to detect and to contain). Exits 3 when the last "
                + "drill is older than carapace.incident.drill.max-age (92 days) or none ran.")
final class DrillReportCommand extends InstallationCommand {

    /** The exit status of a report whose last drill is too old. */
    static final int STALE = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Drills.Report report = installation.run(ctx -> ctx.getBean(Drills.class).report(Instant.now()));
        var out = spec.commandLine().getOut();
        out.printf("%-26s %7s %10s %10s %10s  %s%n", "scenario", "drills", "contained", "MTTD", "MTTC", "last");
        for (Drills.Trend trend : report.trends()) {
            out.printf("%-26s %7d %10d %10s %10s  %s%n", trend.scenario().code(), trend.drills(), trend.contained(),
                    seconds(trend.meanTimeToDetect()), seconds(trend.meanTimeToContain()), trend.last());
        }
        if (report.stale()) {
            out.println("WARNING: " + (report.lastDrill() == null ? "no drill has run"
                    : "the last drill ran " + Duration.between(report.lastDrill(), Instant.now()).toDays() + " days ago")
                    + "; drills are due every " + report.maxAge().toDays() + " days");
        }
        out.flush();
        return report.stale() ? STALE : 0;
    }

    static String seconds(Duration duration) {
        return duration == null ? "-" : String.format("%.1f s", duration.toMillis() / 1000.0);
    }
}
