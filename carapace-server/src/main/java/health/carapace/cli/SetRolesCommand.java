package health.carapace.cli;

import health.carapace.signin.Users;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "set-roles", mixinStandardHelpOptions = true,
        description = "Replaces a user's roles; effective on their next request.")
final class SetRolesCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", description = "The user name.")
    String name;

    @Option(names = "--role", required = true, description = "A role from the policy directory (repeatable).")
    java.util.Set<String> roles = new java.util.LinkedHashSet<>();

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        installation.run(ctx -> {
            ctx.getBean(Users.class).setRoles(name, roles);
            return null;
        });
        out.println("roles set");
        out.flush();
        return 0;
    }
}
