package health.carapace.platform.config;

/**
 * Keeps every node off a PHI database while a restore works on it (ADR 0040, ops review finding 5).
 * The restore holds {@link #LOCK}, a session-level advisory lock, exclusively on the PHI database
 * from before it loads anything until the restored installation has applied the shredding ledger
 * and verified its audit trail. Every new connection of a node — the PHI pool's and the
 * migrations' — first runs {@link #CHECK}, which fails while that lock is held: a node started
 * (or reconnecting) meanwhile gets no connection, so it neither starts nor serves, and no patient
 * shredded after the backup is served in the window between the load and the ledger. The check
 * takes the lock shared and lets it go at once, so nodes never hold it and never block each other.
 */
public final class RestoreGate {

    /** The lock's key: "Carapace" in ASCII, outside the 32-bit range of the hashtext() keys other locks use. */
    public static final long LOCK = 0x4361726170616365L;

    /** Connection-initialisation SQL: refuses the connection (SQLSTATE 55P03) while a restore holds {@link #LOCK}. */
    public static final String CHECK = "do $$ begin if not pg_try_advisory_lock_shared(" + LOCK + ") then "
            + "raise exception using errcode = '55P03', message = 'a restore is in progress on this database'; "
            + "end if; perform pg_advisory_unlock_shared(" + LOCK + "); end $$";

    /** The setting that only a restore's own application sets: it runs inside the restore's hold. */
    public static final String FINISHING_RESTORE = "carapace.restore.finishing";

    private RestoreGate() {
    }
}
