package health.carapace.cli;

import health.carapace.audit.AuditExporter;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Writes an audit export bundle (events, signed tree heads, inclusion and consistency",
            "proofs, public key) for offline verification with carapace-verify.jar."})
final class ExportAuditCommand extends InstallationCommand {

    @Option(names = "--from", required = true, description = "First day (YYYY-MM-DD, UTC) or instant (ISO 8601).")
    String from;

    @Option(names = "--to", required = true, description = "Day after the last (YYYY-MM-DD, UTC) or instant.")
    String to;

    @Option(names = "--out", required = true, description = "New directory to write the bundle into.")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        AuditExporter.Export export = installation.run(ctx -> ctx.getBean(AuditExporter.class)
                .export(instant(from), instant(to), out));
        spec.commandLine().getOut().printf("Exported events %d to %d, proved against the signed tree head of size %d,"
                + " into %s%nVerify with: java -jar carapace-verify.jar %s --public-key PUBLISHED_KEY.pem%n",
                export.firstLeaf(), export.endLeaf() - 1, export.treeSize(), export.directory(), export.directory());
        spec.commandLine().getOut().flush();
        return 0;
    }

    private static java.time.Instant instant(String value) {
        return value.length() == 10
                ? java.time.LocalDate.parse(value).atStartOfDay(java.time.ZoneOffset.UTC).toInstant()
                : java.time.Instant.parse(value);
    }
}
