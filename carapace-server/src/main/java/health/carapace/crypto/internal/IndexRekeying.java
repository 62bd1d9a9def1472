package health.carapace.crypto.internal;

import health.carapace.crypto.EncryptedRecords;
import health.carapace.crypto.internal.KeyJobs.Job;
import org.springframework.beans.factory.ObjectProvider;

/**
 * Blind-index key rotation ({@code reindex}): create-version → settle → reindex → retire. A new
 * index root key version becomes active, every current resource's tokens are rewritten under it,
 * and the old versions are retired once no token of theirs remains.
 */
final class IndexRekeying implements KeyJobKind {

    private final TinkBlindIndex index;
    private final KeysProperties properties;
    private final ObjectProvider<EncryptedRecords> records;

    IndexRekeying(TinkBlindIndex index, KeysProperties properties, ObjectProvider<EncryptedRecords> records) {
        this.index = index;
        this.properties = properties;
        this.records = records;
    }

    @Override
    public String name() {
        return "reindex";
    }

    @Override
    public String firstPhase() {
        return "create-version";
    }

    @Override
    public String resource() {
        return "/keys/index-root";
    }

    @Override
    public Job step(Job job, KeyJobs runner) {
        EncryptedRecords target = records.getObject();
        switch (job.phase()) {
            case "create-version" -> {
                KeyringStore.KeyVersion active = index.versions(true).stream()
                        .filter(v -> v.state().equals("active")).findFirst().orElseThrow();
                int version = active.createdAt().isAfter(job.startedAt()) ? active.version() : index.rotate();
                runner.audit("/keys/index-root/v" + version + "/activated", null);
                return runner.settle(job);
            }
            case "settle" -> {
                return runner.awaitSettled(job, "reindex");
            }
            case "reindex" -> {
                long began = System.nanoTime();
                EncryptedRecords.Batch batch = target.reindex(job.checkpoint(), properties.batchSize());
                runner.throttle(began, batch.scanned());
                if (batch.nextCursor() == null) {
                    return runner.phase(job, "retire", null);
                }
                return runner.checkpoint(job, batch.nextCursor(), batch.scanned());
            }
            case "retire" -> {
                int active = index.versions(true).stream().filter(v -> v.state().equals("active"))
                        .mapToInt(KeyringStore.KeyVersion::version).findFirst().orElseThrow();
                if (target.hasTokensOtherThan(active)) {
                    return runner.anotherPass(job, "reindex", "Tokens of an old index key remain");
                }
                for (KeyringStore.KeyVersion version : index.versions(true)) {
                    if (version.state().equals("decrypt-only")) {
                        runner.audit("/keys/index-root/v" + version.version() + "/retired", null);
                        index.retire(version.version());
                    }
                }
                return runner.finish(job);
            }
            default -> throw new IllegalStateException("unknown phase " + job.phase());
        }
    }
}
