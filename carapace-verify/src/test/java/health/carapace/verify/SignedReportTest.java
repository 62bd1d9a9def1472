package health.carapace.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SignedReportTest {

    private static final byte[] REPORT = """
            {"reportId":"r-1","measuredAt":"2026-12-04T21:00:00Z","overall":"pass","checks":[{"id":"a.b","status":"pass"}]}"""
            .getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path temp;

    private final KeyPair key = generate();

    @Test
    void aSignedReportVerifiesAndGivesBackTheExactBytes() throws Exception {
        byte[] file = SignedReport.sign(key, REPORT);

        SignedReport.Verified verified = SignedReport.verify(file, key.getPublic());

        assertThat(verified.report()).isEqualTo(REPORT);
        assertThat(verified.keyId()).isEqualTo(SignedReport.keyId(key.getPublic()));
    }

    @Test
    void anEditedReportIsRefused() {
        byte[] file = SignedReport.sign(key, REPORT);
        String text = new String(file, StandardCharsets.UTF_8).replace("\"status\":\"pass\"}]", "\"status\":\"fail\"}]");

        assertThatThrownBy(() -> SignedReport.verify(text.getBytes(StandardCharsets.UTF_8), key.getPublic()))
                .isInstanceOf(VerificationException.class).hasMessageContaining("changed after it was signed");
    }

    @Test
    void aTrailingByteIsAnEdit() {
        byte[] file = SignedReport.sign(key, REPORT);
        byte[] longer = java.util.Arrays.copyOf(file, file.length + 1);
        longer[file.length] = '\n';

        assertThatThrownBy(() -> SignedReport.verify(longer, key.getPublic())).isInstanceOf(VerificationException.class);
    }

    @Test
    void aReportSignedByAnotherKeyIsRefusedNamingBothKeys() {
        KeyPair other = generate();
        byte[] file = SignedReport.sign(other, REPORT);

        assertThatThrownBy(() -> SignedReport.verify(file, key.getPublic()))
                .isInstanceOf(VerificationException.class)
                .hasMessageContaining(SignedReport.keyId(other.getPublic()))
                .hasMessageContaining(SignedReport.keyId(key.getPublic()));
    }

    @Test
    void aFileThatIsNotASignedReportIsRefused() {
        assertThatThrownBy(() -> SignedReport.verify(REPORT, key.getPublic())).isInstanceOf(VerificationException.class);
        assertThatThrownBy(() -> SignedReport.verify("{\"format\":\"other\"}\n{}".getBytes(StandardCharsets.UTF_8),
                key.getPublic())).isInstanceOf(VerificationException.class).hasMessageContaining("unknown format");
    }

    @Test
    void theCommandExitsZeroForAGoodReportAndOneForAnEditedOne() throws Exception {
        Path good = Files.write(temp.resolve("good.signed.json"), SignedReport.sign(key, REPORT));
        String edited = Files.readString(good).replace("r-1", "r-2");
        Path bad = Files.writeString(temp.resolve("bad.signed.json"), edited);
        Path pem = Files.writeString(temp.resolve("key.pem"), SignedReport.publicKeyPem(key));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int goodStatus = VerifyCommand.run(new String[] {"report", good.toString(), "--public-key", pem.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        int badStatus = VerifyCommand.run(new String[] {"report", good.toString(), bad.toString(), "--public-key",
            pem.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        int noKeyStatus = VerifyCommand.run(new String[] {"report", good.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));

        assertThat(goodStatus).isZero();
        assertThat(badStatus).isEqualTo(1);
        assertThat(noKeyStatus).isEqualTo(2);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("OK: " + good + ": report r-1")
                .contains("overall pass").contains("FAILED: " + bad);
    }

    private static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
