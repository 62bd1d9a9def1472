package health.carapace.cli;

import health.carapace.signin.Users;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "create-user", mixinStandardHelpOptions = true,
        description = {"Creates a user without any password and prints a one-time enrolment link where they set",
            "one (TOTP is enrolled at their first sign-in). The first administrator is created this way."})
final class CreateUserCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", description = "The user name (unique regardless of case).")
    String name;

    @Option(names = "--role", required = true, description = "A role from the policy directory (repeatable).")
    java.util.Set<String> roles = new java.util.LinkedHashSet<>();

    @Option(names = "--practitioner", description = "The FHIR Practitioner id this user acts as (care relationships).")
    String practitioner;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        Users.Enrolment enrolment = installation.run(ctx -> ctx.getBean(Users.class).create(name, roles, practitioner));
        out.println("user:            " + enrolment.userName());
        out.println("enrolment link:  " + enrolment.link());
        out.println("expires:         " + enrolment.expiresAt());
        out.println("Give the link to the user over a trusted channel; it works once. Carapace stores only its hash.");
        out.flush();
        return 0;
    }
}
