package health.carapace.cli;

import health.carapace.signin.LoginApps;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "create-app", mixinStandardHelpOptions = true,
        description = {"Registers an application through which people sign in (OAuth2 public client:",
            "authorization code with PKCE S256, rotating refresh tokens) and prints its client id."})
final class CreateAppCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--name", required = true, description = "A label for the application.")
    String name;

    @Option(names = "--redirect-uri", required = true, description = "An https:// redirect URI, or "
            + "http://127.0.0.1/PATH for a native app (any port); repeatable.")
    List<String> redirectUris = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        String clientId = installation.run(ctx -> ctx.getBean(LoginApps.class).create(name, redirectUris));
        out.println("client_id: " + clientId);
        out.flush();
        return 0;
    }
}
