package health.carapace.cli;

import health.carapace.signin.Users;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "list-users", mixinStandardHelpOptions = true,
        description = "Lists users: name, roles, practitioner, state. Never a secret.")
final class ListUsersCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        List<Users.Summary> users = installation.run(ctx -> ctx.getBean(Users.class).list());
        out.println("user\troles\tpractitioner\tstate\tpassword\tmfa\tcreated");
        for (Users.Summary u : users) {
            out.println(String.join("\t", u.userName(), String.join(",", new java.util.TreeSet<>(u.roles())),
                    u.practitionerId() == null ? "-" : u.practitionerId(), u.disabled() ? "disabled" : "active",
                    u.passwordSet() ? "set" : "pending", u.mfaEnrolled() ? "enrolled" : "pending",
                    u.createdAt().toString()));
        }
        out.flush();
        return 0;
    }
}
