package health.carapace.crypto;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Key lifecycle operations (ADR 0010). Starting a rotation records a job; jobs run in the
 * background on one node at a time (the scheduler) or in the foreground ({@link #runJobs()}),
 * persist a checkpoint after every step, and resume after a crash. Reads and writes continue
 * throughout.
 */
public interface KeyRotation {

    /**
     * Starts a KEK rotation: a new KEK version is generated in the HSM (or dev keystore) and made
     * active, every wrapped key is re-wrapped under it, then the old version is retired.
     *
     * @param actor who asked (audited)
     * @throws IllegalStateException if a KEK rotation is already running
     */
    UUID rotateKek(String actor);

    /**
     * Starts a DEK rotation: a new key is added to each keyset and made primary, the stored
     * versions are re-encrypted under it, then keys no ciphertext refers to are removed.
     *
     * @param patient the one patient to rotate, or null for every patient and the shared compartment
     */
    UUID rotateDeks(String actor, UUID patient);

    /** Starts a blind-index key rotation: a new index root key, a re-index, retirement of the old. */
    UUID rotateIndexKeys(String actor);

    /**
     * Adds a new key to every state sealing keyset ({@link StateSeal}, ADR 0042) and makes it
     * primary, at once (no job: nothing is re-encrypted). The keys it replaces keep opening until
     * every value they sealed has expired, then the scheduled check destroys them.
     *
     * @return the new keys, as {@code state/<name>#<key id>}
     */
    List<String> rotateStateKeys(String actor);

    /**
     * Runs every unfinished job to completion on this node.
     *
     * @return false if another node is running the jobs (they are not run twice)
     */
    boolean runJobs();

    /**
     * Holds every key job off, on every node, until the hold is closed (the job lock, taken as a
     * job runner takes it). A backup of two databases takes its two snapshots under it, so that no
     * data key is destroyed between them. Waits at most {@code wait} for a run under way.
     *
     * @throws IllegalStateException when jobs still run after {@code wait}, or the database is unreachable
     */
    JobHold holdJobs(java.time.Duration wait);

    /** A hold on the key jobs; closing it lets them run again. */
    interface JobHold extends AutoCloseable {
        @Override
        void close();
    }

    /** Versions, ages, states and usage of the keys, and the progress of jobs. */
    Status status();

    /**
     * @param keys the KEK versions, index root key versions, and data keys (the most used ones
     *     individually, all of them in a summary row)
     * @param jobs running jobs and the most recent finished ones
     * @param encryptionWarning encryptions per key at which a key is flagged
     */
    record Status(List<Key> keys, List<Job> jobs, long encryptionWarning) {}

    /**
     * @param kind {@code kek}, {@code index-root}, {@code state}, {@code dek} or {@code dek-summary}
     * @param id the key's id (a key reference for data keys; no key material)
     * @param encryptions persisted count of encryptions under this key (-1 where not counted)
     * @param warning true when {@code encryptions} reached the warning threshold
     */
    record Key(String kind, String id, int version, Instant createdAt, String state, long encryptions,
            boolean warning) {}

    record Job(UUID id, String kind, String scope, String phase, String state, long done, Instant startedAt,
            Instant updatedAt) {}
}
