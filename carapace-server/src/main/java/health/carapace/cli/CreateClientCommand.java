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

    @Option(names = "--jwks", description = "SMART Backend Services: a file holding the client's public JWKS "
            + "(EC P-384 or RSA >= 2048 bits); the client then signs assertions (private_key_jwt) instead of a secret.")
    java.nio.file.Path jwks;

    @Option(names = "--jwks-url", description = "SMART Backend Services: an https URL serving the client's JWKS.")
    String jwksUrl;

    @Option(names = "--scope", description = "With --jwks or --jwks-url: a system/ scope the client may ask for at "
            + "most (repeatable), e.g. system/*.rs; it narrows the roles, never widens them.")
    java.util.List<String> scopes = new java.util.ArrayList<>();

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        if (jwks != null || jwksUrl != null) {
            String keys = jwks == null ? null : java.nio.file.Files.readString(jwks);
            String clientId = installation.run(ctx -> ctx.getBean(ServiceClients.class)
                    .createBackend(name, roles, scopes, keys, jwksUrl));
            out.println("client_id:     " + clientId);
            out.println("The client authenticates with private_key_jwt (ES384 or RS384) against its registered keys.");
            out.flush();
            return 0;
        }
        ServiceClients.Credentials created = installation.run(ctx -> ctx.getBean(ServiceClients.class).create(name, roles));
        out.println("client_id:     " + created.clientId());
        out.println("client_secret: " + created.clientSecret());
        out.println("The secret is shown only now; Carapace stores only its hash.");
        out.flush();
        return 0;
    }
}
