/**
 * The {@code carapace} command line: one command per file. It composes the other modules through
 * their public APIs (the ones it uses are declared below) and nothing depends on it.
 */
@org.springframework.modulith.ApplicationModule(allowedDependencies = {"access", "audit", "backup", "compliance", "crypto", "disposal", "incident",
        "platform :: dev", "platform :: logging", "signin"})
package health.carapace.cli;
