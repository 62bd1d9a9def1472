package health.carapace.platform.config;

import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Keeps every node off a PHI database while a restore works on it (ADR 0040, ops review finding 5,
 * s7 review findings 1 and 7). Two things close the gate, and every new connection of a node — the
 * PHI pool's and the migrations' — first runs {@link #CHECK}, which fails while either is there:
 * <ul>
 * <li>{@link #LOCK}, a session-level advisory lock the restore holds exclusively from before it
 * loads anything: it keeps a second restore out and closes the gate at once;</li>
 * <li>the marker table {@link #MARKER_SCHEMA}.{@link #MARKER_TABLE}, committed before the load and
 * dropped only after the restored installation has applied the shredding ledger. It outlives the
 * restore's process and session: a restore killed (SIGKILL, a dropped SSH session, the OOM killer,
 * a reboot) or whose hold session was cut off between the load and the ledger leaves the gate shut,
 * so no patient shredded after the backup is served. Running {@code restore} again removes what the
 * unfinished one loaded and starts over.</li>
 * </ul>
 * A node started (or reconnecting) meanwhile gets no connection, so it neither starts nor serves.
 * The check takes the lock shared and lets it go at once, so nodes never hold it and never block
 * each other. The restore's own finishing application is let through by {@link #whileFinishingRestore},
 * in code: no setting or environment variable opens the gate.
 */
public final class RestoreGate {

    /** The lock's key: "Carapace" in ASCII, outside the 32-bit range of the hashtext() keys other locks use. */
    public static final long LOCK = 0x4361726170616365L;

    /** The schema of the unfinished-restore marker: not in any backup (it exists only while a restore works). */
    public static final String MARKER_SCHEMA = "carapace_restore";

    /** The unfinished-restore marker table. */
    public static final String MARKER_TABLE = "in_progress";

    /** Connection-initialisation SQL: refuses the connection (SQLSTATE 55P03) while a restore is unfinished. */
    public static final String CHECK = "do $$ begin "
            // the catalogs, readable by every role (to_regclass would need USAGE on the schema)
            + "if exists (select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace "
            + "where n.nspname = '" + MARKER_SCHEMA + "' and c.relname = '" + MARKER_TABLE + "') then "
            + "raise exception using errcode = '55P03', message = 'a restore of this database did not finish: run "
            + "restore again (it starts over), nodes stay refused until it finishes'; end if; "
            + "if not pg_try_advisory_lock_shared(" + LOCK + ") then "
            + "raise exception using errcode = '55P03', message = 'a restore is in progress on this database'; "
            + "end if; perform pg_advisory_unlock_shared(" + LOCK + "); end $$";

    /** Set only by {@link #whileFinishingRestore}, never from settings. */
    private static final AtomicBoolean FINISHING = new AtomicBoolean();

    private RestoreGate() {
    }

    /**
     * Runs {@code finishing} — the restore's own application, started in this process on the
     * databases it loaded — with the gate open for this process's new connections.
     */
    public static <T> T whileFinishingRestore(Callable<T> finishing) throws Exception {
        if (!FINISHING.compareAndSet(false, true)) {
            throw new IllegalStateException("a restore is already finishing in this process");
        }
        try {
            return finishing.call();
        } finally {
            FINISHING.set(false);
        }
    }

    /** Whether this process is a restore's finishing application (then the gate does not apply to it). */
    public static boolean finishingRestore() {
        return FINISHING.get();
    }
}
