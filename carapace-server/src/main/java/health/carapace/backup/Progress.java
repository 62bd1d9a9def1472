package health.carapace.backup;

/**
 * Where a backup or restore reports how far it is: table names, byte counts, steps. Never a row,
 * a value or a message that could hold one.
 */
@FunctionalInterface
public interface Progress {

    void report(String line);

    /** Reports nothing. */
    Progress NONE = line -> { };
}
