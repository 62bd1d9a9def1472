package health.carapace.cli;

import health.carapace.audit.AuditQueries;
import health.carapace.audit.Disclosures;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "disclosures", mixinStandardHelpOptions = true,
        description = "Prints the accounting of disclosures for one patient (HIPAA §164.528, six years).")
final class DisclosuresCommand extends InstallationCommand {

    @Option(names = "--patient", required = true, description = "The Patient's id.")
    String patient;

    @Option(names = "--format", defaultValue = "json", description = "json or csv (default: ${DEFAULT-VALUE}).")
    String format;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String reference = Disclosures.patientReference(patient);
        String report = installation.run(ctx -> {
            var events = ctx.getBean(AuditQueries.class).disclosures(reference,
                    Disclosures.windowStart(java.time.Instant.now()));
            auditExport(ctx, "/audit/disclosures", reference);
            return "csv".equals(format) ? Disclosures.csv(events) : Disclosures.json(reference, events);
        });
        spec.commandLine().getOut().print(report);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
