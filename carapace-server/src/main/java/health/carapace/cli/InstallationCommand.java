package health.carapace.cli;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import java.util.List;
import java.util.concurrent.Callable;
import org.springframework.context.ConfigurableApplicationContext;
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

    /** Who acts, in the audit trail: the operating-system user who ran the command. */
    static String operator() {
        return "cli:" + System.getProperty("user.name", "unknown");
    }

    /** Records that the operator read something out of the installation (itself audited, as over HTTP). */
    static void auditExport(ConfigurableApplicationContext context, String what, String patientReference) {
        context.getBean(AuditTrail.class).record(List.of(AuditEvent.now(operator(), AuditAction.EXPORTED, what,
                AuditContext.none(), true, patientReference, null, null)));
    }
}
