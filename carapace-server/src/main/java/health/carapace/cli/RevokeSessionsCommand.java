package health.carapace.cli;

import health.carapace.signin.Users;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "revoke-sessions", mixinStandardHelpOptions = true,
        description = "Ends every sign-in session of a user: their tokens stop working on the next request.")
final class RevokeSessionsCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--user", required = true, description = "The user name.")
    String name;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        int revoked = installation.run(ctx -> ctx.getBean(Users.class).revokeSessions(name));
        out.println(revoked + " session(s) ended");
        out.flush();
        return 0;
    }
}
