package health.carapace.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Unmatched;

/**
 * A command that acts on an installation. picocli ignores {@code @Unmatched} inside a mixin,
 * so it lives here and shares the mixin's list: {@code --name=value} settings then reach the
 * application context of every admin, audit and keys command, as they do for {@code start}.
 */
abstract class InstallationCommand implements Callable<Integer> {
    @CommandLine.Mixin
    InstallationOptions installation = new InstallationOptions();

    @Unmatched
    List<String> settings = installation.properties;
}
