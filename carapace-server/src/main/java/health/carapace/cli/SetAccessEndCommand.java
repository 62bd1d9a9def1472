package health.carapace.cli;

import health.carapace.signin.AccessEndDates;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "set-access-end", mixinStandardHelpOptions = true,
        description = {"Records when a person's access must end (end of employment or contract). The server disables",
            "the account within five minutes of that time; the compliance report flags any account still usable",
            "an hour after it. --clear removes the date."})
final class SetAccessEndCommand extends InstallationCommand {

    @Parameters(index = "0", description = "The user name.")
    String userName;

    @Option(names = "--at", description = "The instant access ends, ISO 8601 UTC, e.g. 2027-01-31T17:00:00Z.")
    String at;

    @Option(names = "--clear", description = "Remove the end date.")
    boolean clear;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (clear == (at != null)) {
            throw new InstallationOptions.UnknownOption("give either --at INSTANT or --clear");
        }
        Instant endsAt;
        try {
            endsAt = clear ? null : Instant.parse(at);
        } catch (DateTimeParseException e) {
            throw new InstallationOptions.UnknownOption("--at must be an ISO 8601 instant such as 2027-01-31T17:00:00Z");
        }
        boolean set = installation.run(ctx -> ctx.getBean(AccessEndDates.class).set(userName, endsAt, operator()));
        var out = spec.commandLine().getOut();
        out.println(set ? (clear ? "access end cleared" : "access ends at " + endsAt) : "no such user");
        out.flush();
        return set ? 0 : 1;
    }
}
