package health.carapace.cli;

import health.carapace.incident.Incident;
import health.carapace.incident.Incidents;
import java.util.Optional;
import java.util.UUID;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Shows one incident: its clocks, references and timeline.")
final class ShowIncidentCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", description = "The incident id.")
    String id;

    @Override
    public Integer call() throws Exception {
        UUID incident = IncidentText.id(id);
        Optional<Incident> found = incident == null ? Optional.empty()
                : installation.run(ctx -> ctx.getBean(Incidents.class).find(incident));
        if (found.isEmpty()) {
            spec.commandLine().getErr().println("no incident with that id");
            return 1;
        }
        IncidentText.print(found.get(), spec.commandLine().getOut());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
