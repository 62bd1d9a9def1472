package health.carapace.export.internal;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The {@code export} schema: jobs, their progress (for resuming) and their committed files. */
final class ExportJobs {

    enum Status { QUEUED, RUNNING, COMPLETE, FAILED, CANCELLED, EXPIRED }

    record Job(UUID id, String clientId, List<String> appScope, String clientAddress, String level, List<String> types,
            Instant since, String requestUrl, Status status, byte[] wrappedKey, String cursorPatient, int part,
            int patientsDone, Instant createdAt, Instant completedAt, Instant expiresAt, UUID groupId,
            byte[] sealedTypeFilters) {}

    record OutputFile(String name, String type, int part, int resources) {}

    private static final String COLUMNS = "id, client_id, app_scope, client_address, level, types, since, request_url,"
            + " status, wrapped_key, cursor_patient, part, patients_done, created_at, completed_at, expires_at,"
            + " group_id, type_filter";

    private final JdbcClient jdbc;

    ExportJobs(DataSource dataSource) {
        this.jdbc = JdbcClient.create(dataSource);
    }

    void create(UUID id, String clientId, List<String> appScope, String clientAddress, String level, UUID groupId,
            List<String> types, Instant since, byte[] sealedTypeFilters, String requestUrl, byte[] wrappedKey, String kekId,
            Instant now) {
        jdbc.sql("insert into export.job (id, client_id, app_scope, client_address, level, group_id, types, since,"
                        + " type_filter, request_url, status, wrapped_key, kek_id, created_at)"
                        + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)")
                .params(id, clientId, appScope == null ? null : appScope.toArray(String[]::new), clientAddress, level,
                        groupId, types.toArray(String[]::new), since == null ? null : Timestamp.from(since),
                        sealedTypeFilters, requestUrl, wrappedKey, kekId, Timestamp.from(now))
                .update();
    }

    Optional<Job> find(UUID id) {
        return jdbc.sql("select " + COLUMNS + " from export.job where id = ?").param(id).query(ExportJobs::job).optional();
    }

    /**
     * Takes the oldest queued job, or a running one whose worker stopped beating (a restart): one
     * node at a time ({@code skip locked}), and the job resumes after its committed cursor.
     */
    Optional<Job> claim(Instant now, Instant staleBefore) {
        return jdbc.sql("""
                update export.job set status = 'running', heartbeat_at = ?
                where id = (select id from export.job
                            where status = 'queued' or (status = 'running' and heartbeat_at < ?)
                            order by created_at limit 1 for update skip locked)
                returning""" + " " + COLUMNS)
                .params(Timestamp.from(now), Timestamp.from(staleBefore))
                .query(ExportJobs::job).optional();
    }

    /** Commits one part: its files and the cursor after it, in one statement group; false if the job is no longer running. */
    boolean commitPart(UUID id, int part, String cursorPatient, int patients, List<OutputFile> files, Instant now) {
        int updated = jdbc.sql("update export.job set part = ?, cursor_patient = ?, patients_done = patients_done + ?,"
                        + " heartbeat_at = ? where id = ? and status = 'running'")
                .params(part, cursorPatient, patients, Timestamp.from(now), id).update();
        if (updated == 0) {
            return false;
        }
        for (OutputFile file : files) {
            jdbc.sql("insert into export.file (job_id, name, type, part, resources) values (?, ?, ?, ?, ?)")
                    .params(id, file.name(), file.type(), file.part(), file.resources()).update();
        }
        return true;
    }

    boolean complete(UUID id, Instant now, Instant expiresAt) {
        return jdbc.sql("update export.job set status = 'complete', completed_at = ?, expires_at = ?"
                        + " where id = ? and status = 'running'")
                .params(Timestamp.from(now), Timestamp.from(expiresAt), id).update() == 1;
    }

    void fail(UUID id) {
        // the key goes with the job: nothing it wrote can be read from now on
        jdbc.sql("update export.job set status = 'failed', wrapped_key = null where id = ? and status = 'running'")
                .param(id).update();
    }

    /**
     * Fails every export that may hold records of a patient being shredded: complete ones and running
     * ones (system and patient level cover every patient; no job keeps a patient list). Their keys
     * go in the same statement, so any copy of their files is unreadable from the shredding's
     * commit on; the worker deletes the files. Queued jobs have read nothing, and skip the patient.
     */
    int failHoldingAnyPatient() {
        return jdbc.sql("update export.job set status = 'failed', wrapped_key = null where status in ('running', 'complete')")
                .update();
    }

    /** Cancels a job that is not finished yet or deletes a finished one's output (status cancelled). */
    boolean cancel(UUID id) {
        return jdbc.sql("update export.job set status = 'cancelled', wrapped_key = null where id = ?"
                        + " and status in ('queued', 'running', 'complete', 'failed')")
                .param(id).update() == 1;
    }

    /** Jobs whose output must go: expired complete ones (marked expired here) and cancelled or failed ones. */
    List<UUID> toClean(Instant now) {
        jdbc.sql("update export.job set status = 'expired', wrapped_key = null where status = 'complete'"
                        + " and expires_at <= ?")
                .param(Timestamp.from(now)).update();
        // by status, whatever the file rows say: a part written but never committed has no row
        return jdbc.sql("select id from export.job where status in ('expired', 'cancelled', 'failed')"
                        + " and cleaned_at is null")
                .query(UUID.class).list();
    }

    /** The job's directory is gone: its file rows go, and it is not cleaned again. */
    void forgetFiles(UUID id, Instant now) {
        jdbc.sql("delete from export.file where job_id = ?").param(id).update();
        jdbc.sql("update export.job set cleaned_at = ? where id = ?").params(Timestamp.from(now), id).update();
    }

    List<OutputFile> files(UUID id) {
        return jdbc.sql("select name, type, part, resources from export.file where job_id = ? order by part, type")
                .param(id)
                .query((rs, n) -> new OutputFile(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getInt(4)))
                .list();
    }

    /** How many of the client's exports are queued or running. */
    int live(String clientId) {
        return jdbc.sql("select count(*) from export.job where client_id = ? and status in ('queued', 'running')")
                .param(clientId).query(Integer.class).single();
    }

    void beat(UUID id, Instant now) {
        jdbc.sql("update export.job set heartbeat_at = ? where id = ? and status = 'running'")
                .params(Timestamp.from(now), id).update();
    }

    private static Job job(java.sql.ResultSet rs, int n) throws java.sql.SQLException {
        java.sql.Array scope = rs.getArray(3);
        Timestamp since = rs.getTimestamp(7);
        Timestamp completed = rs.getTimestamp(15);
        Timestamp expires = rs.getTimestamp(16);
        return new Job(rs.getObject(1, UUID.class), rs.getString(2),
                scope == null ? null : List.of((String[]) scope.getArray()), rs.getString(4), rs.getString(5),
                List.of((String[]) rs.getArray(6).getArray()), since == null ? null : since.toInstant(), rs.getString(8),
                Status.valueOf(rs.getString(9).toUpperCase(java.util.Locale.ROOT)), rs.getBytes(10), rs.getString(11),
                rs.getInt(12), rs.getInt(13), rs.getTimestamp(14).toInstant(),
                completed == null ? null : completed.toInstant(), expires == null ? null : expires.toInstant(),
                rs.getObject(17, UUID.class), rs.getBytes(18));
    }
}
