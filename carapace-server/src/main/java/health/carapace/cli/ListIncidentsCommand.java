package health.carapace.cli;

import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Incidents;
import health.carapace.incident.Severity;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "list", mixinStandardHelpOptions = true,
        description = "Lists incidents, newest first: references and codes only.")
final class ListIncidentsCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--state", description = "open, acknowledged, contained, resolved or closed.")
    String state;

    @CommandLine.Option(names = "--severity", description = "low, medium, high or critical.")
    String severity;

    @CommandLine.Option(names = "--detector", description = "A detector code, e.g. vip-access.")
    String detector;

    @CommandLine.Option(names = "--limit", defaultValue = "100", description = "At most this many (1-1000).")
    int limit;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        Incidents.Filter filter;
        try {
            filter = new Incidents.Filter(state == null ? null : IncidentState.of(state),
                    severity == null ? null : Severity.of(severity), detector, null, null, null, limit);
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("--state or --severity is not one of the documented codes");
            return 2;
        }
        List<Incident> found = installation.run(ctx -> ctx.getBean(Incidents.class).list(filter));
        out.println(IncidentText.HEADER);
        found.forEach(i -> out.println(IncidentText.row(i)));
        out.flush();
        return 0;
    }
}
