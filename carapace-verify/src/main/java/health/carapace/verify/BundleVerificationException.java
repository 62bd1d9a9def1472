package health.carapace.verify;

/**
 * An audit bundle failed verification. Says where: the bundle file and, for the {@code .jsonl}
 * files, the line (counted from 1; 0 when the problem is the file as a whole).
 */
public final class BundleVerificationException extends VerificationException {

    private static final long serialVersionUID = 1L;

    private final String file;
    private final long line;

    BundleVerificationException(String file, long line, String problem) {
        super(location(file, line) + ": " + problem);
        this.file = file;
        this.line = line;
    }

    BundleVerificationException(String file, long line, String problem, Throwable cause) {
        super(location(file, line) + ": " + problem, cause);
        this.file = file;
        this.line = line;
    }

    /** The bundle file at fault, e.g. {@code events.jsonl}. */
    public String file() {
        return file;
    }

    /** The line at fault, from 1; 0 when the problem is not on one line. */
    public long line() {
        return line;
    }

    private static String location(String file, long line) {
        return line > 0 ? file + " line " + line : file;
    }
}
