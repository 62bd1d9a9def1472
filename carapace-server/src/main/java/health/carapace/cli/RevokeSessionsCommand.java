package health.carapace.cli;

import health.carapace.signin.Users;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "revoke-sessions", mixinStandardHelpOptions = true,
        description = "Ends every sign-in session of a user: their tokens stop working on the next request.")
final class RevokeSessionsCommand extends InstallationCommand {

    @Option(names = "--user", required = true, description = "The user name.")
    String name;

    @Override
    public Integer call() throws Exception {
        int revoked = installation.run(ctx -> ctx.getBean(Users.class).revokeSessions(name));
        System.out.println(revoked + " session(s) ended");
        return 0;
    }
}
