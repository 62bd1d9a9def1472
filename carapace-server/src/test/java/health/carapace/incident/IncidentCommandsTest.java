package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceCli;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code ./carapace incident list|show|ack|close} against the installation the server runs on. */
class IncidentCommandsTest extends IncidentTesting {

    private final String dataDir = TestInstallation.dataDir().toString();

    @Test
    void anOperatorListsShowsAcknowledgesAndClosesAnIncident() {
        ServiceClients.Credentials nurse = client("cli-nurse", TestPolicy.EVERYTHING);
        String patient = createPatient();
        link(nurse.clientId(), patient);
        read(tokenFor(nurse.clientId(), nurse.clientSecret()), patient);
        Incident incident = awaitIncident("self-access", nurse.clientId());
        String id = incident.id().toString();

        Result list = run("incident", "list", "--detector", "self-access", "--state", "open", "--data-dir", dataDir);
        assertThat(list.exit()).as(list.err()).isZero();
        assertThat(list.out()).startsWith(
                "id\tdetected\tseverity\tstate\tdetector\tprincipal\taddress\tevents\toverdue\tdrill")
                .contains(id + "\t").contains("\tmedium\topen\tself-access\t" + nurse.clientId());

        Result show = run("incident", "show", id, "--data-dir", dataDir);
        assertThat(show.exit()).as(show.err()).isZero();
        assertThat(show.out()).contains("detector:      self-access (medium)").contains("isolate by:")
                .contains("patients:      Patient/" + patient).contains("detected");

        assertThat(run("incident", "ack", id, "--data-dir", dataDir).exit()).isZero();
        Result again = run("incident", "ack", id, "--data-dir", dataDir);
        assertThat(again.exit()).isEqualTo(2);
        assertThat(again.err()).contains("cannot become acknowledged");
        Result badResolution = run("incident", "close", id, "--resolution", "Jane-Canary", "--data-dir", dataDir);
        assertThat(badResolution.exit()).isEqualTo(2);
        assertThat(badResolution.err()).doesNotContain("Canary");
        assertThat(run("incident", "close", id, "--resolution", "false-positive", "--data-dir", dataDir).out())
                .startsWith("closed " + id);
        Incident closed = incidents.find(incident.id()).orElseThrow();
        assertThat(closed.state()).isEqualTo(IncidentState.CLOSED);
        assertThat(closed.timeline()).extracting(Incident.TimelineEntry::actor).last().asString().startsWith("cli:");

        Result unknown = run("incident", "show", UUID.randomUUID().toString(), "--data-dir", dataDir);
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(run("incident", "ack", "Jane-Canary", "--data-dir", dataDir).err()).doesNotContain("Canary")
                .contains("no incident with that id");
        assertThat(run("incident", "list", "--state", "Canary", "--data-dir", dataDir).err()).doesNotContain("Canary");
    }

    @Test
    void containPrintsTheTimeFromDetectionAndStampsTheIncident() {
        ServiceClients.Credentials snooper = client("cli-contained", TestPolicy.EVERYTHING);
        String patient = createPatient();
        link(snooper.clientId(), patient);
        String token = tokenFor(snooper.clientId(), snooper.clientSecret());
        read(token, patient);
        Incident incident = awaitIncident("self-access", snooper.clientId());
        String id = incident.id().toString();

        Result contained = run("incident", "contain", id, "--disable", "--block", "198.51.100.7", "--data-dir", dataDir);
        assertThat(contained.exit()).as(contained.err()).isZero();
        assertThat(contained.out()).contains("done: disabled").contains("done: blocked:198.51.100.7/32")
                .containsPattern("contained " + id + " \\d+ s after detection");
        assertThat(read(token, patient).statusCode()).as("the server heard it").isEqualTo(401);
        assertThat(run("incident", "contain", id, "--unblock", "198.51.100.7", "--data-dir", dataDir).out())
                .contains("done: unblocked:198.51.100.7/32");
        Result bad = run("incident", "contain", id, "--block", "Jane.Canary.example", "--data-dir", dataDir);
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).doesNotContain("Canary").contains("address range");
        assertThat(incidents.find(incident.id()).orElseThrow().state()).isEqualTo(IncidentState.CONTAINED);
    }

    private record Result(int exit, String out, String err) {}

    private static Result run(String... args) {
        CommandLine cli = CarapaceCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }
}
