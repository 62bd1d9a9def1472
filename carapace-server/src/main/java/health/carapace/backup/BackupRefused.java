package health.carapace.backup;

import health.carapace.platform.logging.SafeMessage;

/**
 * A backup or restore that cannot go on, with a message for the operator that names the problem
 * (a file, a check, a setting) and never a value read from a database. {@link #exitCode()} is
 * the command's exit code.
 */
public final class BackupRefused extends RuntimeException implements SafeMessage {

    private static final long serialVersionUID = 1L;

    /** The backup itself is refused: tampered, truncated, another key, a bad signature. */
    public static final int REFUSED = 1;
    /** Options, settings, keys or tools are missing or unusable. */
    public static final int UNUSABLE = 2;
    /** The target installation is not empty (a restore goes onto a fresh installation only). */
    public static final int NOT_EMPTY = 3;
    /** A database tool or connection failed while it worked. */
    public static final int FAILED = 4;
    /** The target is in use: a node is connected to it, or another restore holds it. */
    public static final int IN_USE = 5;

    private final int exitCode;

    public BackupRefused(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
