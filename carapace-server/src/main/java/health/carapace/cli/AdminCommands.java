package health.carapace.cli;

import picocli.CommandLine.Command;

@Command(name = "admin", mixinStandardHelpOptions = true, description = "Administrative tasks.",
        subcommands = {CreateClientCommand.class, CreateUserCommand.class, DisableUserCommand.class, RevokeSessionsCommand.class,
            ListUsersCommand.class, SetRolesCommand.class, CreateAppCommand.class, CreateSmartAppCommand.class, AssignCommand.class, AccessReportCommand.class,
            BreakGlassReviewCommand.class, SetAccessEndCommand.class})
final class AdminCommands {
}
