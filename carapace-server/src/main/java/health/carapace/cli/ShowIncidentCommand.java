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
        var custody = new java.util.ArrayList<health.carapace.incident.Evidence.Custody>();
        Optional<Incident> found = incident == null ? Optional.empty()
                : installation.run(ctx -> {
                    custody.addAll(ctx.getBean(health.carapace.incident.Evidence.class).custody(incident));
                    return ctx.getBean(Incidents.class).find(incident);
                });
        if (found.isEmpty()) {
            spec.commandLine().getErr().println("no incident with that id");
            return 1;
        }
        IncidentText.print(found.get(), spec.commandLine().getOut());
        spec.commandLine().getOut().println("evidence:      " + (custody.isEmpty() ? "none" : custody.size() + " bundle(s)"));
        for (health.carapace.incident.Evidence.Custody c : custody) {
            spec.commandLine().getOut().println("  " + c.madeAt() + "  " + c.id() + "  by " + c.madeBy() + "  "
                    + c.bundleBytes() + " bytes" + (c.heapDump() ? " (heap)" : "") + "  sha-256 " + c.bundleSha256()
                    + "  signed by " + c.signingKeyId());
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}
