package health.carapace.cli;

import health.carapace.signin.Users;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "disable-user", mixinStandardHelpOptions = true,
        description = "Disables a user and ends their sessions: their tokens stop working on the next request.")
final class DisableUserCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", description = "The user name.")
    String name;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        boolean disabled = installation.run(ctx -> ctx.getBean(Users.class).disable(name));
        out.println(disabled ? "disabled; every session ended" : "no such user");
        out.flush();
        return disabled ? 0 : 1;
    }
}
