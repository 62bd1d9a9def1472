package health.carapace.cli;

import health.carapace.incident.Drills;
import health.carapace.incident.Incidents;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Plays a scenario against the live server over HTTPS with drill-tagged synthetic principals and "
                + "patients, and times detection, acknowledgement and containment. Scenarios: vip-snooping, "
                + "credential-attack, bulk-read, after-hours-break-glass.")
final class RunDrillCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", description = "The scenario.")
    String scenario;

    @CommandLine.Option(names = "--server", defaultValue = "https://localhost:8443",
            description = "The live server's base URL (default: ${DEFAULT-VALUE}).")
    URI server;

    @CommandLine.Option(names = "--cacert", description = "A PEM certificate to trust for the server (default: the "
            + "installation's dev certificate when there is one, else the JDK's trust store).")
    Path cacert;

    @CommandLine.Option(names = "--role", defaultValue = "records-service",
            description = "The policy role of the synthetic principals (default: ${DEFAULT-VALUE}).")
    String role;

    @CommandLine.Option(names = "--wait-for-ack", description = "Wait for a person to acknowledge the drill incident "
            + "(incident ack, or the API) instead of simulating it.")
    boolean waitForAck;

    @CommandLine.Option(names = "--ack-timeout", defaultValue = "PT15M", description = "How long to wait for the person.")
    Duration ackTimeout;

    @CommandLine.Option(names = "--detection-timeout", defaultValue = "PT2M",
            description = "How long to wait for the detectors.")
    Duration detectionTimeout;

    @Override
    public Integer call() throws Exception {
        var err = spec.commandLine().getErr();
        var chosen = Drills.Scenario.of(scenario);
        if (chosen.isEmpty()) {
            err.println("unknown scenario; one of vip-snooping, credential-attack, bulk-read, after-hours-break-glass");
            return 2;
        }
        if (!"https".equals(server.getScheme()) || server.getHost() == null) {
            err.println("--server must be an https:// URL");
            return 2;
        }
        SSLContext tls;
        try {
            tls = trust();
        } catch (Exception e) {
            err.println("the certificate to trust cannot be read (" + e.getClass().getSimpleName() + ")");
            return 2;
        }
        Drills.Options options = new Drills.Options(server, tls, role, detectionTimeout, waitForAck, ackTimeout);
        var out = spec.commandLine().getOut();
        if (waitForAck) {
            out.println("waiting up to " + ackTimeout.toMinutes() + " min for a person to acknowledge the drill incident");
            out.flush();
        }
        try {
            Drills.Result result = installation.run(ctx -> ctx.getBean(Drills.class).run(chosen.get(), options,
                    operator()));
            out.println("drill " + result.id() + " " + result.scenario().code() + ": " + result.outcome());
            out.println("  incident          " + (result.incident() == null ? "-" : result.incident()));
            out.println("  time to detect    " + DrillReportCommand.seconds(result.toDetect()));
            out.println("  time to ack       " + DrillReportCommand.seconds(result.toAcknowledge())
                    + (result.acknowledgedByAPerson() ? " (a person)" : " (simulated)"));
            out.println("  time to contain   " + DrillReportCommand.seconds(result.toContain()));
            out.flush();
            return "contained".equals(result.outcome()) ? 0 : 1;
        } catch (Incidents.Refused refused) {
            return IncidentText.refused(refused, err);
        }
    }

    private SSLContext trust() throws Exception {
        Path pem = cacert != null ? cacert : installation.dataDir.resolve("tls").resolve("server.crt");
        if (cacert == null && !Files.isRegularFile(pem)) {
            return SSLContext.getDefault();
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        try (InputStream in = Files.newInputStream(pem)) {
            store.setCertificateEntry("server", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }
}
