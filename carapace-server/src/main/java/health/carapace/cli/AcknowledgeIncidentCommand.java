package health.carapace.cli;

import health.carapace.incident.Incident;
import health.carapace.incident.Incidents;
import java.util.UUID;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "ack", mixinStandardHelpOptions = true,
        description = "Acknowledges an open incident (audited, on its timeline).")
final class AcknowledgeIncidentCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", description = "The incident id.")
    String id;

    @Override
    public Integer call() throws Exception {
        UUID incident = IncidentText.id(id);
        if (incident == null) {
            spec.commandLine().getErr().println("no incident with that id");
            return 1;
        }
        try {
            Incident acknowledged = installation.run(ctx -> ctx.getBean(Incidents.class).acknowledge(incident, operator()));
            spec.commandLine().getOut().println("acknowledged " + acknowledged.id());
            spec.commandLine().getOut().flush();
            return 0;
        } catch (Incidents.Refused refused) {
            return IncidentText.refused(refused, spec.commandLine().getErr());
        }
    }
}
