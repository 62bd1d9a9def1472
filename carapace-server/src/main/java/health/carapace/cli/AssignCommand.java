package health.carapace.cli;

import health.carapace.audit.AuditContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "assign", mixinStandardHelpOptions = true,
        description = {"Assigns a user (or service client) to a patient explicitly: a care relationship besides",
            "CareTeam membership and Encounter participation. Audited. --remove ends the assignment."})
final class AssignCommand extends InstallationCommand {

    @Option(names = "--user", required = true, description = "User name or service client id.")
    String user;

    @Option(names = "--patient", required = true, description = "The Patient's id (or Patient/<id>).")
    String patient;

    @Option(names = "--remove", description = "End the assignment instead.")
    boolean remove;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String reference = patient.startsWith("Patient/") ? patient : "Patient/" + patient;
        String admin = operator();
        boolean changed = installation.run(ctx -> remove
                ? ctx.getBean(health.carapace.access.CareRelationships.class).unassign(user, reference, admin,
                        AuditContext.none())
                : ctx.getBean(health.carapace.access.CareRelationships.class).assign(user, reference, admin,
                        AuditContext.none()));
        spec.commandLine().getOut().println(remove
                ? (changed ? "Assignment removed." : "There was no such assignment.")
                : (changed ? "Assigned." : "The assignment already existed."));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
