package health.carapace.platform.logging;

/**
 * A log argument that the caller vouches holds no PHI (a key id, a setting, a file path).
 * The redacting log format prints strings only when wrapped in this; everything else that
 * could carry text is replaced by {@code [redacted]}.
 */
public record LogSafe(String value) {

    public static LogSafe of(Object value) {
        return new LogSafe(String.valueOf(value));
    }

    @Override
    public String toString() {
        return value;
    }
}
