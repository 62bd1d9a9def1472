package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceCli;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ./carapace incident evidence | evidence-open | evidence-keys} and the custody lines of
 * {@code incident show}, against the installation the server runs on; bad input refused with a
 * clear message and nothing written or recorded.
 */
class EvidenceCommandsTest extends IncidentTesting {

    private final String dataDir = TestInstallation.dataDir().toString();

    @TempDir
    Path temp;

    @Test
    void anOperatorMakesABundleAndTheComplianceOfficerOpensIt() throws Exception {
        ServiceClients.Credentials reader = client("cli-evidence", TestPolicy.EVERYTHING);
        String patient = createPatient();
        link(reader.clientId(), patient);
        read(tokenFor(reader.clientId(), reader.clientSecret()), patient);
        String id = awaitIncident("self-access", reader.clientId()).id().toString();
        Path bundle = temp.resolve("incident.bundle");

        Result made = run("incident", "evidence", id, "--out", bundle.toString(), "--data-dir", dataDir);
        assertThat(made.exit()).as(made.err()).isZero();
        String sha256 = EvidenceBundleTest.sha256(bundle);
        assertThat(made.out()).contains("sha-256:       " + sha256).contains("custody:").contains("by cli:");
        assertThat(temp.resolve("incident.bundle.manifest.json")).exists();
        assertThat(temp.resolve("incident.bundle.manifest.sig")).exists();

        Path privateKey = TestInstallation.dataDir().resolve("evidence/evidence-private-key.json");
        Result opened = run("incident", "evidence-open", bundle.toString(), "--private-key", privateKey.toString(),
                "--out", temp.resolve("opened").toString());
        assertThat(opened.exit()).as(opened.err()).isZero();
        assertThat(opened.out()).startsWith("VERIFIED: ").contains("incident:      " + id).contains("audit export:  events ");
        assertThat(Files.readAllBytes(temp.resolve("opened/manifest.json")))
                .isEqualTo(Files.readAllBytes(temp.resolve("incident.bundle.manifest.json")));

        Result show = run("incident", "show", id, "--data-dir", dataDir);
        assertThat(show.exit()).as(show.err()).isZero();
        assertThat(show.out()).contains("evidence:      1 bundle(s)").contains("sha-256 " + sha256);

        // the wrong private key, and an existing output directory: refused, nothing decrypted
        Path otherKeys = Files.createDirectory(temp.resolve("other-keys"));
        assertThat(run("incident", "evidence-keys", "--out-dir", otherKeys.toString()).exit()).isZero();
        Result wrongKey = run("incident", "evidence-open", bundle.toString(), "--private-key",
                otherKeys.resolve("evidence-private-key.json").toString(), "--out", temp.resolve("wrong").toString());
        assertThat(wrongKey.exit()).isEqualTo(1);
        assertThat(wrongKey.err()).contains("NOT VERIFIED").contains("this private key does not open the bundle");
        assertThat(temp.resolve("wrong")).doesNotExist();
        Result publicAsPrivate = run("incident", "evidence-open", bundle.toString(), "--private-key",
                otherKeys.resolve("evidence-public-key.json").toString(), "--out", temp.resolve("wrong").toString());
        assertThat(publicAsPrivate.exit()).isEqualTo(2);
        assertThat(publicAsPrivate.err()).contains("does not hold an evidence private key");
        assertThat(run("incident", "evidence-keys", "--out-dir", otherKeys.toString()).exit())
                .as("never overwrites a key").isEqualTo(2);
    }

    @Test
    void badInputIsRefusedWithAClearMessageAndNothingRecorded() throws Exception {
        Path unwritable = temp.resolve("no-such-directory/bundle");
        Result noDir = run("incident", "evidence", UUID.randomUUID().toString(), "--out", unwritable.toString(),
                "--data-dir", dataDir);
        assertThat(noDir.exit()).isEqualTo(2);
        assertThat(noDir.err()).contains("--out cannot be written");

        Path existing = Files.writeString(temp.resolve("existing"), "keep me");
        Result exists = run("incident", "evidence", UUID.randomUUID().toString(), "--out", existing.toString(),
                "--data-dir", dataDir);
        assertThat(exists.exit()).isEqualTo(2);
        assertThat(Files.readString(existing)).isEqualTo("keep me");

        Result malformed = run("incident", "evidence", "Jane-Canary", "--out", temp.resolve("b1").toString(),
                "--data-dir", dataDir);
        assertThat(malformed.exit()).isEqualTo(1);
        assertThat(malformed.err()).contains("no incident with that id").doesNotContain("Canary");

        UUID unknown = UUID.randomUUID();
        Path out = temp.resolve("b2");
        Result notFound = run("incident", "evidence", unknown.toString(), "--out", out.toString(), "--data-dir", dataDir);
        assertThat(notFound.exit()).isEqualTo(1);
        assertThat(notFound.err()).contains("no incident with that id");
        assertThat(out).as("no partial bundle is left").doesNotExist();
        assertThat(temp.resolve("b2.manifest.json")).doesNotExist();

        Result notABundle = run("incident", "evidence-open", existing.toString(), "--private-key",
                TestInstallation.dataDir().resolve("evidence/evidence-private-key.json").toString(),
                "--out", temp.resolve("o").toString());
        assertThat(notABundle.exit()).isEqualTo(1);
        assertThat(notABundle.err()).contains("not an evidence bundle");
    }

    @Test
    void aServingNodeThatIsNotThereIsRefusedAndNoBundleIsLeft() throws Exception {
        ServiceClients.Credentials reader = client("cli-evidence-pid", TestPolicy.EVERYTHING);
        String patient = createPatient();
        link(reader.clientId(), patient);
        read(tokenFor(reader.clientId(), reader.clientSecret()), patient);
        String id = awaitIncident("self-access", reader.clientId()).id().toString();
        int custodyBefore = incidents.find(UUID.fromString(id)).orElseThrow().timeline().size();

        Path out = temp.resolve("b3");
        Result noSuchProcess = run("incident", "evidence", id, "--out", out.toString(), "--data-dir", dataDir,
                "--pid", "2147483646");
        assertThat(noSuchProcess.exit()).isEqualTo(2);
        assertThat(noSuchProcess.err()).contains("no process with that pid is running").contains("--without-serving-node");
        assertThat(out).doesNotExist();

        // a process that is not a Carapace JVM of this user (init): jcmd cannot attach, nothing is made
        Result notOurs = run("incident", "evidence", id, "--out", out.toString(), "--data-dir", dataDir, "--pid", "1");
        assertThat(notOurs.exit()).isNotZero();
        assertThat(out).doesNotExist();

        Result notANumber = run("incident", "evidence", id, "--out", out.toString(), "--data-dir", dataDir,
                "--pid", "Jane-Canary");
        assertThat(notANumber.exit()).isEqualTo(2);
        assertThat(notANumber.err()).doesNotContain("Canary");
        assertThat(out).doesNotExist();
        assertThat(incidents.find(UUID.fromString(id)).orElseThrow().timeline()).as("nothing recorded")
                .hasSize(custodyBefore);
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
