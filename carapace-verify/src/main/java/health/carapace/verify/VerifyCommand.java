package health.carapace.verify;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;

/**
 * {@code java -jar carapace-verify.jar BUNDLE [--public-key FILE]}: verifies an audit export
 * bundle and prints the verdict. Exit status 0 when the bundle verifies, 1 when it does not
 * (with the first failure and where it is), 2 when the command line is wrong or the bundle or
 * key cannot be read.
 */
public final class VerifyCommand {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int UNUSABLE = 2;

    private static final String USAGE = """
            usage: java -jar carapace-verify.jar BUNDLE [--public-key FILE]
                   java -jar carapace-verify.jar report FILE... --public-key FILE   (compliance reports)

              BUNDLE            an audit export: a directory, or a .zip of one
              --public-key FILE the audit signing key you trust (PEM, Ed25519), obtained from
                                your organisation, not from the bundle. Without it the bundle's
                                own public-key.pem is used, which proves only that the bundle
                                is consistent with itself.

            exit status: 0 verified, 1 verification failed, 2 unusable command line or input
            """;

    private VerifyCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length > 0 && args[0].equals("report")) {
            return ReportCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
        }
        Path bundle = null;
        Path publicKeyFile = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--help") || arg.equals("-h")) {
                out.print(USAGE);
                return OK;
            } else if (arg.equals("--public-key") && i + 1 < args.length) {
                publicKeyFile = Path.of(args[++i]);
            } else if (arg.startsWith("--public-key=")) {
                publicKeyFile = Path.of(arg.substring("--public-key=".length()));
            } else if (!arg.startsWith("-") && bundle == null) {
                bundle = Path.of(arg);
            } else {
                err.println("carapace-verify: unexpected argument " + arg);
                err.print(USAGE);
                return UNUSABLE;
            }
        }
        if (bundle == null) {
            err.print(USAGE);
            return UNUSABLE;
        }

        long started = System.nanoTime();
        String keySource;
        TreeHeadVerifier key;
        try {
            if (publicKeyFile != null) {
                key = TreeHeadVerifier.fromPem(Files.readString(publicKeyFile, StandardCharsets.UTF_8));
                keySource = "from " + publicKeyFile;
            } else {
                key = BundleVerifier.readBundlePublicKey(bundle);
                keySource = "from the bundle itself: this proves only that the bundle is consistent with its own key;"
                        + "\n               compare this id with your organisation's published audit key, or pass --public-key";
            }
        } catch (IOException | IllegalArgumentException e) {
            err.println("carapace-verify: cannot read " + (publicKeyFile != null ? publicKeyFile : bundle) + ": "
                    + e.getMessage());
            return UNUSABLE;
        } catch (BundleVerificationException e) {
            out.println("FAILED: " + e.getMessage());
            return FAILED;
        }

        BundleReport report;
        try {
            report = BundleVerifier.trusting(key).verify(bundle);
        } catch (BundleVerificationException e) {
            out.println("FAILED: " + e.getMessage());
            return FAILED;
        } catch (IOException e) {
            err.println("carapace-verify: cannot read the bundle: " + e.getMessage());
            return UNUSABLE;
        }
        double seconds = (System.nanoTime() - started) / 1e9;

        out.println("OK: audit bundle verified");
        out.println("  bundle:      " + bundle);
        out.println("  public key:  " + report.keyId());
        out.println("               " + keySource);
        out.println("  tree heads:  " + report.treeHeads() + ", sizes " + report.smallestTreeSize() + " to "
                + report.largestTreeSize() + ", " + Instant.ofEpochMilli(report.firstTimestampMillis()) + " to "
                + Instant.ofEpochMilli(report.lastTimestampMillis()) + "; signatures and consistency verified");
        out.println("  events:      " + report.events() + (report.events() == 0 ? ""
                : ", leaf indices " + report.firstLeafIndex() + " to " + (report.endLeafIndex() - 1))
                + "; none missing, each included in a signed tree head");
        out.println("  roots:       " + (report.rootsRebuilt() == 0
                ? "not rebuilt (the range does not start at leaf 0)"
                : "rebuilt from the events for " + report.rootsRebuilt() + " tree head"
                        + (report.rootsRebuilt() == 1 ? "" : "s")));
        out.println(String.format(Locale.ROOT, "  time:        %.2f s (%,.0f events/s)", seconds,
                report.events() / Math.max(seconds, 1e-9)));
        return OK;
    }
}
