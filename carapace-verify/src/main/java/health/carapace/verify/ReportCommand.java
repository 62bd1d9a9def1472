package health.carapace.verify;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code java -jar carapace-verify.jar report FILE... --public-key FILE}: verifies signed
 * compliance reports ({@link SignedReport}) against the key the auditor trusts and prints each
 * report's id, time and overall result. Exit status 0 when every file verifies, 1 when any does
 * not, 2 when the command line is wrong or a file cannot be read.
 */
final class ReportCommand {

    private static final String USAGE = """
            usage: java -jar carapace-verify.jar report FILE... --public-key FILE

              FILE              a signed compliance report (./carapace compliance export, or
                                GET /admin/compliance?format=signed)
              --public-key FILE the compliance report key you trust (PEM, Ed25519), obtained from
                                your organisation (./carapace compliance public-key), not from a report

            exit status: 0 every report verified, 1 a report did not verify, 2 unusable command line or input
            """;

    private ReportCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        java.util.List<Path> files = new java.util.ArrayList<>();
        Path keyFile = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--help") || arg.equals("-h")) {
                out.print(USAGE);
                return VerifyCommand.OK;
            } else if (arg.equals("--public-key") && i + 1 < args.length) {
                keyFile = Path.of(args[++i]);
            } else if (arg.startsWith("--public-key=")) {
                keyFile = Path.of(arg.substring("--public-key=".length()));
            } else if (!arg.startsWith("-")) {
                files.add(Path.of(arg));
            } else {
                err.println("carapace-verify report: unexpected argument " + arg);
                err.print(USAGE);
                return VerifyCommand.UNUSABLE;
            }
        }
        if (files.isEmpty() || keyFile == null) {
            // No fallback to a key inside the report: a report cannot vouch for itself.
            err.print(USAGE);
            return VerifyCommand.UNUSABLE;
        }
        PublicKey key;
        try {
            key = SignedReport.publicKeyFromPem(Files.readString(keyFile, StandardCharsets.UTF_8));
        } catch (IOException | IllegalArgumentException e) {
            err.println("carapace-verify report: cannot read the public key " + keyFile + ": " + e.getMessage());
            return VerifyCommand.UNUSABLE;
        }
        int status = VerifyCommand.OK;
        for (Path file : files) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (IOException e) {
                err.println("carapace-verify report: cannot read " + file + ": " + e.getMessage());
                return VerifyCommand.UNUSABLE;
            }
            try {
                SignedReport.Verified verified = SignedReport.verify(bytes, key);
                JsonNode report = JsonMapper.builder().build().readTree(verified.report());
                out.println("OK: " + file + ": report " + field(report, "reportId") + ", measured "
                        + field(report, "measuredAt") + ", overall " + field(report, "overall") + ", key "
                        + verified.keyId());
            } catch (VerificationException e) {
                out.println("FAILED: " + file + ": " + e.getMessage());
                status = VerifyCommand.FAILED;
            } catch (RuntimeException e) {
                // Signed by the trusted key but not JSON: the signer's bug, still not a report to rely on.
                out.println("FAILED: " + file + ": the signed content is not a JSON report");
                status = VerifyCommand.FAILED;
            }
        }
        return status;
    }

    private static String field(JsonNode report, String name) {
        JsonNode value = report.get(name);
        return value == null ? "?" : value.asString();
    }
}
