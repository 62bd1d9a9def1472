package health.carapace;

import picocli.CommandLine;

/** Test access to the launcher's command line without exiting the JVM. */
public final class CarapaceCli {

    private CarapaceCli() {
    }

    public static CommandLine commandLine() {
        return Carapace.commandLine();
    }
}
