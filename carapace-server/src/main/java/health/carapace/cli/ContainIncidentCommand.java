package health.carapace.cli;

import health.carapace.incident.Containment;
import health.carapace.incident.Incidents;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "contain", mixinStandardHelpOptions = true,
        description = "Contains an incident: each action takes effect on the next request on every node, is audited "
                + "and stamps the incident. Prints the time from detection to containment.")
final class ContainIncidentCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", description = "The incident id.")
    String id;

    @CommandLine.Option(names = "--revoke-sessions", description = "Ends every sign-in session of the incident's user.")
    boolean revokeSessions;

    @CommandLine.Option(names = "--disable", description = "Disables the incident's user or service client.")
    boolean disable;

    @CommandLine.Option(names = "--block", description = "Blocks an address or CIDR range (repeatable).")
    List<String> block = new ArrayList<>();

    @CommandLine.Option(names = "--unblock", description = "Lifts a block (repeatable).")
    List<String> unblock = new ArrayList<>();

    @CommandLine.Option(names = "--lockdown",
            description = "Refuses every PHI request except those of the --allow administrators.")
    boolean lockdown;

    @CommandLine.Option(names = "--lift-lockdown", description = "Ends the lockdown.")
    boolean liftLockdown;

    @CommandLine.Option(names = "--allow", description = "A named administrator a lockdown lets through (repeatable).")
    List<String> allow = new ArrayList<>();

    @CommandLine.Option(names = "--suspend-role",
            description = "Suspends a role for every holder until lifted (repeatable).")
    List<String> suspendRole = new ArrayList<>();

    @CommandLine.Option(names = "--lift-role", description = "Gives a suspended role back (repeatable).")
    List<String> liftRole = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        var err = spec.commandLine().getErr();
        UUID incident = IncidentText.id(id);
        if (incident == null) {
            err.println("no incident with that id");
            return 1;
        }
        if (lockdown && liftLockdown) {
            err.println("--lockdown and --lift-lockdown exclude each other");
            return 2;
        }
        Containment.Actions actions = new Containment.Actions(revokeSessions, disable, block, unblock,
                lockdown ? Boolean.TRUE : liftLockdown ? Boolean.FALSE : null, allow, suspendRole, liftRole);
        try {
            Containment.Result result = installation.run(ctx -> ctx.getBean(Containment.class)
                    .contain(incident, actions, operator()));
            var out = spec.commandLine().getOut();
            result.done().forEach(done -> out.println("done: " + done));
            if (result.detectionToContainment() == null) {
                out.println("not contained: nothing was isolated (" + result.incident().id() + " stays "
                        + result.incident().state().code() + ")");
            } else {
                out.println("contained " + result.incident().id() + " " + result.detectionToContainment().toSeconds()
                        + " s after detection");
            }
            out.flush();
            return 0;
        } catch (Incidents.Refused refused) {
            return IncidentText.refused(refused, err);
        }
    }
}
