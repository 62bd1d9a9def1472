package health.carapace.cli;

import picocli.CommandLine;

/** Starts a rotation and runs it here to completion, unless a server node is already running jobs. */
abstract class KeyRotationCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    abstract java.util.UUID start(health.carapace.crypto.KeyRotation rotation, String actor);

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        String actor = operator();
        return installation.run(ctx -> {
            var rotation = ctx.getBean(health.carapace.crypto.KeyRotation.class);
            java.util.UUID job;
            try {
                job = start(rotation, actor);
            } catch (IllegalStateException running) {
                out.println(running.getMessage());
                out.flush();
                return 1;
            }
            out.println("Started key job " + job);
            out.flush();
            if (rotation.runJobs()) {
                out.println("Finished key job " + job);
            } else {
                out.println("A server node is running key jobs; it will run this one ('keys status' shows progress)");
            }
            out.flush();
            return 0;
        });
    }
}
