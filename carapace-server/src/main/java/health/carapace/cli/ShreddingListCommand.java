package health.carapace.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "list", mixinStandardHelpOptions = true,
        description = "Lists crypto-shredding requests, newest first: id, state, patient, reason, who requested and decided.")
final class ShreddingListCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var requests = installation.run(ctx -> ctx.getBean(health.carapace.disposal.Shredding.class).list());
        var out = spec.commandLine().getOut();
        out.println("id\tstate\tpatient\treason\trequested_by\trequested_at\tdecided_by\texecuted_at");
        for (var r : requests) {
            out.println(String.join("\t", r.id().toString(), r.state(), r.patient(), r.reason(), r.requestedBy(),
                    r.requestedAt().toString(), String.valueOf(r.decidedBy()), String.valueOf(r.executedAt())));
        }
        out.flush();
        return 0;
    }
}
