package health.carapace.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;

/**
 * SoftHSM2 standing in for the HSM: fresh tokens under {@code target/softhsm/}, created once per
 * test JVM and shared by every test class in it, as {@link TestInstallation} shares its database.
 *
 * <p>SoftHSM reads {@code SOFTHSM2_CONF} (set by surefire, see {@code carapace-server/pom.xml})
 * and scans its token directory once, at the library's {@code C_Initialize}, which the JDK calls
 * once per JVM. So the configuration file and every token the suite needs must exist before the
 * first PKCS#11 call of the JVM: {@link #get()} creates all of them at once, and every PKCS#11
 * test class reaches it through {@code @ExtendWith(SoftHsm.Required.class)}, which runs before
 * anything else in the class. A token added later would stay invisible to this JVM.
 *
 * <p>When SoftHSM2 is not installed: under {@code CI=true} the tests fail, because a skipped HSM
 * test in CI would quietly stop proving that the production KEK works; elsewhere they are skipped
 * with a message saying what to install.
 */
public final class SoftHsm {

    /** The token holding the test KEKs; tests keep apart by key label. */
    public static final String KEK_TOKEN = "carapace-kek-tests";

    /**
     * A token nobody logs in to. PKCS#11 login state belongs to the whole process, and SunPKCS11
     * skips {@code C_Login} (and so the PIN check) on a token the process is already logged in to:
     * a wrong PIN is only refused by a token that this JVM has never logged in to.
     */
    public static final String NEVER_LOGGED_IN_TOKEN = "carapace-pin-tests";

    /**
     * A token for the test where several nodes race to create one KEK. Kept apart because a lost
     * race leaves two keys under one label, and then SunPKCS11 cannot load the token's key store
     * for any label: a regression there must not take the other tests' token down with it.
     */
    public static final String CONCURRENT_START_TOKEN = "carapace-start-tests";

    /**
     * A token whose sessions the HSM-outage test takes away (every session and key handle of its
     * slot); kept apart so that no other test's provider loses its sessions with it.
     */
    public static final String OUTAGE_TOKEN = "carapace-outage-tests";

    /**
     * A token whose HSM sessions are lost and opened again by sessions configured with a PIN it refuses
     * ({@code HsmSessionRecoveryTest}); kept apart so that no other test's login is touched.
     */
    public static final String RECOVERY_TOKEN = "carapace-recovery-tests";

    private static final Map<String, String> PINS = Map.of(
            RECOVERY_TOKEN, "recovery-tests-user-pin-6127",
            OUTAGE_TOKEN, "outage-tests-user-pin-5830",
            KEK_TOKEN, "kek-user-pin-7191",
            NEVER_LOGGED_IN_TOKEN, "pin-tests-user-pin-4408",
            CONCURRENT_START_TOKEN, "start-tests-user-pin-2963");
    private static final String SO_PIN = "test-security-officer-pin";

    private static final List<String> LIBRARY_LOCATIONS = List.of(
            "/usr/lib/softhsm/libsofthsm2.so",                    // Debian, Ubuntu
            "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
            "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
            "/usr/lib64/pkcs11/libsofthsm2.so",                   // Fedora, RHEL
            "/usr/lib64/softhsm/libsofthsm2.so",
            "/usr/local/lib/softhsm/libsofthsm2.so",              // source builds, Homebrew on Intel
            "/opt/homebrew/lib/softhsm/libsofthsm2.so");          // Homebrew on Apple silicon

    /** A token as SunPKCS11 addresses it. */
    public record Token(String label, int slotListIndex, String pin) {
        public char[] pinChars() {
            return pin.toCharArray();
        }
    }

    private static SoftHsm started;
    private static RuntimeException startFailure;

    private final String library;
    private final Map<String, Token> tokens;

    private SoftHsm(String library, Map<String, Token> tokens) {
        this.library = library;
        this.tokens = tokens;
    }

    /**
     * The suite's SoftHSM, set up on first use. Fails (under {@code CI=true}) or aborts the calling
     * test (elsewhere) when SoftHSM2 is missing.
     */
    public static synchronized SoftHsm get() {
        if (started != null) {
            return started;
        }
        if (startFailure != null) {
            throw startFailure;
        }
        Installation installation = findInstallation();
        try {
            started = start(installation);
            return started;
        } catch (RuntimeException e) {
            startFailure = e;
            throw e;
        }
    }

    /**
     * Applies the missing-SoftHSM rule before a test class runs (so before Spring loads a context
     * that needs the token) and reports the skip on every test: surefire does not report an abort
     * in {@code @BeforeAll}, so a class skipped that way would show as zero tests, silently.
     */
    public static final class Required implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            try {
                get();
                return ConditionEvaluationResult.enabled("SoftHSM2 is set up");
            } catch (TestAbortedException skip) {
                return ConditionEvaluationResult.disabled(skip.getMessage());
            }
        }
    }

    public String library() {
        return library;
    }

    public Token token(String label) {
        Token token = tokens.get(label);
        if (token == null) {
            throw new IllegalArgumentException("No test token " + label + "; tokens are created up front in SoftHsm");
        }
        return token;
    }

    /** The security officer's PIN of every test token (the outage test logs in as the officer). */
    public String securityOfficerPin() {
        return SO_PIN;
    }

    /** Properties that point Carapace's pkcs11 KEK at the KEK token under {@code keyLabel}. */
    public Map<String, Object> kekProperties(String keyLabel) {
        return kekProperties(KEK_TOKEN, keyLabel);
    }

    /** Properties that point Carapace's pkcs11 KEK at {@code tokenLabel} under {@code keyLabel}. */
    public Map<String, Object> kekProperties(String tokenLabel, String keyLabel) {
        Token token = token(tokenLabel);
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("carapace.kek.provider", "pkcs11");
        properties.put("carapace.kek.pkcs11.library", library);
        properties.put("carapace.kek.pkcs11.slot-list-index", token.slotListIndex());
        properties.put("carapace.kek.pkcs11.pin", token.pin());
        properties.put("carapace.kek.pkcs11.key-label", keyLabel);
        return properties;
    }

    private record Installation(Path tool, String library, Path configFile) {}

    /** The one place that decides between failing and skipping when SoftHSM2 is missing. */
    private static Installation findInstallation() {
        List<String> missing = new ArrayList<>();
        Path tool = onPath("softhsm2-util");
        if (tool == null) {
            missing.add("softhsm2-util is not on the PATH");
        }
        String library = LIBRARY_LOCATIONS.stream().filter(l -> Files.isRegularFile(Path.of(l))).findFirst().orElse(null);
        if (library == null) {
            missing.add("libsofthsm2.so is in none of " + LIBRARY_LOCATIONS);
        }
        String configFile = System.getenv("SOFTHSM2_CONF");
        if (configFile == null || configFile.isBlank()) {
            missing.add("SOFTHSM2_CONF is not set (surefire sets it: run the tests through Maven)");
        }
        if (missing.isEmpty()) {
            return new Installation(tool, library, Path.of(configFile).toAbsolutePath());
        }
        String problem = "SoftHSM2 is needed for the PKCS#11 tests: " + String.join("; ", missing)
                + ". Install it with 'apt-get install softhsm2' (or your platform's softhsm package).";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(problem + " CI=true, so this is a failure, not a skip.");
        }
        Assumptions.abort(problem + " Skipping, because CI is not 'true'.");
        throw new AssertionError("unreachable");
    }

    private static SoftHsm start(Installation installation) {
        Path dir = installation.configFile().getParent();
        Path tokenDir = dir.resolve("tokens");
        try {
            // A previous run's tokens would hold keys under labels this run reuses.
            deleteRecursively(tokenDir);
            Files.createDirectories(tokenDir);
            Files.writeString(installation.configFile(), String.join("\n",
                    "# Written by the Carapace tests (health.carapace.testing.SoftHsm).",
                    "directories.tokendir = " + tokenDir,
                    "objectstore.backend = file",
                    "log.level = ERROR",
                    "slots.removable = false",
                    ""), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot prepare the SoftHSM directory " + dir, e);
        }
        for (String label : PINS.keySet()) {
            initToken(installation, label, PINS.get(label));
        }
        // Find each token in the slot list as this JVM's library sees it (the first PKCS#11 call
        // of the JVM), instead of assuming index 0: SoftHSM lists tokens in token-directory
        // order and keeps one uninitialised slot, so the order is not the order of creation.
        List<String> labels = TokenInspector.of(installation.library()).tokenLabelsBySlotListIndex();
        Map<String, Token> tokens = new LinkedHashMap<>();
        for (String label : PINS.keySet()) {
            int index = labels.indexOf(label);
            if (index < 0 || labels.lastIndexOf(label) != index) {
                throw new IllegalStateException("Expected exactly one SoftHSM token labelled " + label
                        + " in the slot list, found " + labels);
            }
            tokens.put(label, new Token(label, index, PINS.get(label)));
        }
        return new SoftHsm(installation.library(), Map.copyOf(tokens));
    }

    private static void initToken(Installation installation, String label, String pin) {
        ProcessBuilder command = new ProcessBuilder(installation.tool().toString(), "--init-token", "--free",
                "--label", label, "--pin", pin, "--so-pin", SO_PIN)
                .redirectErrorStream(true);
        command.environment().put("SOFTHSM2_CONF", installation.configFile().toString());
        try {
            Process process = command.start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (process.waitFor() != 0) {
                throw new IllegalStateException("softhsm2-util --init-token for " + label + " failed: " + output.strip());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot run " + installation.tool(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while initialising a SoftHSM token", e);
        }
    }

    private static Path onPath(String executable) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, executable);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
