package health.carapace.crypto.internal;

import health.carapace.crypto.internal.KeyJobs.Job;

/**
 * One kind of key job (ADR 0010): a state machine over phases, run by {@link KeyJobs}. Every step
 * must be idempotent and must record its progress through the runner (a phase or a checkpoint)
 * before it returns, so that a job killed anywhere resumes from its row in {@code ops.key_job}.
 */
interface KeyJobKind {

    /** The kind as stored in {@code ops.key_job.kind}. */
    String name();

    /** The phase a new job starts in. */
    String firstPhase();

    /** The audited resource of the key it rotates ({@code /keys/kek}); start and finish are audited below it. */
    String resource();

    /**
     * Runs one step of the job's current phase.
     *
     * @return the job as it stands after the step, or null once it has finished
     */
    Job step(Job job, KeyJobs runner);
}
