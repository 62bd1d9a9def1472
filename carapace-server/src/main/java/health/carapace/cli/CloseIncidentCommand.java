package health.carapace.cli;

import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Incidents;
import java.util.UUID;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "close", mixinStandardHelpOptions = true,
        description = "Resolves or closes an incident with a resolution code (audited, on its timeline).")
final class CloseIncidentCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", description = "The incident id.")
    String id;

    @CommandLine.Option(names = "--resolution", required = true,
            description = "resolved, false-positive, duplicate or drill.")
    String resolution;

    @CommandLine.Option(names = "--resolved-only", description = "Move to resolved instead of closed.")
    boolean resolvedOnly;

    @Override
    public Integer call() throws Exception {
        UUID incident = IncidentText.id(id);
        if (incident == null) {
            spec.commandLine().getErr().println("no incident with that id");
            return 1;
        }
        IncidentState target = resolvedOnly ? IncidentState.RESOLVED : IncidentState.CLOSED;
        try {
            Incident closed = installation.run(ctx -> ctx.getBean(Incidents.class)
                    .close(incident, target, resolution, operator()));
            spec.commandLine().getOut().println(closed.state().code() + " " + closed.id());
            spec.commandLine().getOut().flush();
            return 0;
        } catch (Incidents.Refused refused) {
            return IncidentText.refused(refused, spec.commandLine().getErr());
        }
    }
}
