package health.carapace.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyCommandTest {

    @TempDir
    Path temp;

    private final Ed25519TreeHeadSigner signer = Ed25519TreeHeadSigner.generate();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private Path bundle;
    private Path trustedKey;

    @BeforeEach
    void writeBundle() throws Exception {
        bundle = SyntheticBundle.log(300, List.of(100L, 300L), signer)
                .write(temp.resolve("bundle"), signer.verifier(), 0, 300);
        trustedKey = Files.writeString(temp.resolve("trusted.pem"), signer.verifier().toPem());
    }

    @Test
    void exitsZeroWithASummaryWhenTheBundleVerifies() {
        int status = run(bundle.toString(), "--public-key", trustedKey.toString());

        assertThat(status).isZero();
        assertThat(out()).startsWith("OK: audit bundle verified")
                .contains(signer.keyId())
                .contains("from " + trustedKey)
                .contains("tree heads:  2, sizes 100 to 300")
                .contains("events:      300, leaf indices 0 to 299")
                .contains("rebuilt from the events for 2 tree heads");
        assertThat(err()).isEmpty();
    }

    @Test
    void saysSoWhenItCanOnlyTrustTheBundlesOwnKey() {
        int status = run(bundle.toString());

        assertThat(status).isZero();
        assertThat(out()).contains("from the bundle itself").contains("--public-key");
    }

    @Test
    void exitsOneWithTheFirstFailureAndWhereItIs() throws Exception {
        Path events = bundle.resolve("events.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(events));
        lines.remove(150);
        Files.write(events, lines);

        int status = run(bundle.toString(), "--public-key=" + trustedKey);

        assertThat(status).isEqualTo(1);
        assertThat(out()).startsWith("FAILED: events.jsonl line 151: leaf index 151 where 150 was expected");
    }

    @Test
    void exitsOneWhenTheBundleWasSignedByAnotherKey() throws Exception {
        Path otherKey = Files.writeString(temp.resolve("other.pem"), Ed25519TreeHeadSigner.generate().verifier().toPem());

        assertThat(run(bundle.toString(), "--public-key", otherKey.toString())).isEqualTo(1);
        assertThat(out()).startsWith("FAILED: public-key.pem");
    }

    @Test
    void exitsTwoWhenTheCommandLineOrTheInputIsUnusable() {
        assertThat(run()).isEqualTo(2);
        assertThat(err()).contains("usage:");
        assertThat(run(bundle.toString(), "--frobnicate")).isEqualTo(2);
        assertThat(run(temp.resolve("no-such-bundle").toString())).isEqualTo(2);
        assertThat(run(bundle.toString(), "--public-key", temp.resolve("no-such-key.pem").toString())).isEqualTo(2);
        assertThat(out()).isEmpty();
    }

    private int run(String... args) {
        return VerifyCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }
}
