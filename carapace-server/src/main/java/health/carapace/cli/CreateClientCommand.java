package health.carapace.cli;

import health.carapace.signin.ServiceClients;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "create-client", mixinStandardHelpOptions = true,
        description = "Registers a service client (OAuth2 client credentials) and prints its secret once.")
final class CreateClientCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--name", required = true, description = "A label for the client, e.g. the system using it.")
    String name;

    @Option(names = "--role", description = "A role of the policy directory the client holds (repeatable), "
            + "e.g. records-service; its permissions, time window and IP range apply on every request.")
    java.util.Set<String> roles = new java.util.LinkedHashSet<>();

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        ServiceClients.Credentials created = installation.run(ctx -> ctx.getBean(ServiceClients.class).create(name, roles));
        out.println("client_id:     " + created.clientId());
        out.println("client_secret: " + created.clientSecret());
        out.println("The secret is shown only now; Carapace stores only its hash.");
        out.flush();
        return 0;
    }
}
