package health.carapace.cli;

import health.carapace.audit.AuditContext;
import health.carapace.signin.SmartApps;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "create-smart-app", mixinStandardHelpOptions = true,
        description = {"Registers a SMART on FHIR app (authorization code with PKCE S256, consent screen, scopes",
            "narrowed to the person's roles; docs/SMART.md) and prints its client id (and secret, once)."})
final class CreateSmartAppCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--name", required = true, description = "A label for the app.")
    String name;

    @Option(names = "--redirect-uri", required = true, description = "An https:// redirect URI, or "
            + "http://127.0.0.1/PATH for a native app (any port); repeatable.")
    List<String> redirectUris = new ArrayList<>();

    @Option(names = "--scope", required = true, description = "The most the app may ask for, a SMART 2.0 scope "
            + "(patient/*.rs, user/Observation.rs, launch/patient, openid, fhirUser ...); repeatable.")
    List<String> scopes = new ArrayList<>();

    @Option(names = "--confidential", description = "Give the app a client secret (a server-side app).")
    boolean confidential;

    @Option(names = "--launch-uri", description = "Where an EHR launch opens the app (https://).")
    String launchUri;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        String admin = "cli:" + System.getProperty("user.name", "unknown");
        SmartApps.Registration app = installation.run(ctx -> ctx.getBean(SmartApps.class)
                .create(name, redirectUris, scopes, confidential, launchUri, admin, AuditContext.none()));
        out.println("client_id:     " + app.clientId());
        if (app.clientSecret() != null) {
            out.println("client_secret: " + app.clientSecret());
            out.println("The secret is shown only now; Carapace stores only its hash.");
        }
        out.flush();
        return 0;
    }
}
