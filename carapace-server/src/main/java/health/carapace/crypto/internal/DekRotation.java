package health.carapace.crypto.internal;

import health.carapace.crypto.EncryptedRecords;
import health.carapace.crypto.EncryptedStore;
import health.carapace.crypto.internal.KeyJobs.Job;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.beans.factory.ObjectProvider;

/**
 * Data key rotation ({@code rotate-deks}): add-keys → settle → reencrypt → destroy. Each keyset
 * (of one patient, or of all compartments) gets a new primary key, every {@link EncryptedStore}
 * is re-encrypted in turn, then the keys that no stored ciphertext names any more are destroyed;
 * if some still are (written by a node whose view was stale), another re-encrypt pass.
 */
final class DekRotation implements KeyJobKind {

    private final KeyringStore store;
    private final PatientKeyring deks;
    private final KeysProperties properties;
    private final ObjectProvider<EncryptedRecords> records;
    private final ObjectProvider<EncryptedStore> stores;
    private final KeysInUse keysInUse;
    private final HsmWorkers hsm;

    DekRotation(KeyringStore store, PatientKeyring deks, KeysProperties properties,
            ObjectProvider<EncryptedRecords> records, ObjectProvider<EncryptedStore> stores, KeysInUse keysInUse,
            HsmWorkers hsm) {
        this.store = store;
        this.deks = deks;
        this.properties = properties;
        this.records = records;
        this.stores = stores;
        this.keysInUse = keysInUse;
        this.hsm = hsm;
    }

    @Override
    public String name() {
        return "rotate-deks";
    }

    @Override
    public String firstPhase() {
        return "add-keys";
    }

    @Override
    public String resource() {
        return "/keys/dek";
    }

    @Override
    public Job step(Job job, KeyJobs runner) {
        switch (job.phase()) {
            case "add-keys" -> {
                if (job.scope() != null) {
                    // A shredded (or never written) patient has no keyset: nothing to rotate.
                    if (!deks.rotate(job.scope())) {
                        return runner.finish(job);
                    }
                    return runner.settle(runner.checkpoint(job, job.scope(), 1));
                }
                List<String> refs = store.dataKeyRefs(job.checkpoint() == null ? "" : job.checkpoint(),
                        properties.batchSize());
                if (refs.isEmpty()) {
                    return runner.settle(job);
                }
                hsm.parallel(refs, ref -> deks.rotate(ref.substring("dek/".length())));
                return runner.checkpoint(job, refs.get(refs.size() - 1), refs.size());
            }
            case "settle" -> {
                return runner.awaitSettled(job, "reencrypt");
            }
            case "reencrypt" -> {
                return reencrypt(job, runner);
            }
            case "destroy" -> {
                return destroy(job, runner);
            }
            default -> throw new IllegalStateException("unknown phase " + job.phase());
        }
    }

    private Job reencrypt(Job job, KeyJobs runner) {
        if (job.checkpoint() == null) {
            // Start of a pass: re-read every keyset, so that the cache holds the new primaries.
            deks.invalidateAll();
        }
        List<EncryptedStore> all = encryptedStores();
        Position at = position(all, job.checkpoint());
        EncryptedStore target = all.get(at.store());
        long began = System.nanoTime();
        EncryptedStore.Batch batch = target.reencrypt(job.scope(), at.cursor(), properties.batchSize());
        runner.throttle(began, batch.scanned());
        if (batch.nextCursor() != null) {
            return runner.checkpoint(job, target.name() + ":" + batch.nextCursor(), batch.scanned());
        }
        if (at.store() + 1 < all.size()) {
            return runner.checkpoint(job, all.get(at.store() + 1).name() + ":", batch.scanned());
        }
        return runner.phase(job, "destroy", null);
    }

    /** A key goes only if no store of ciphertexts still names it. */
    private Job destroy(Job job, KeyJobs runner) {
        Map<String, Set<Integer>> inUse = keysInUse.named(encryptedStores(), job.scope());
        boolean leftovers = false;
        long destroyed = 0;
        List<String> compartments = job.scope() != null ? List.of(job.scope()) : null;
        String after = "";
        while (true) {
            List<String> page = compartments != null ? compartments
                    : store.dataKeyRefs(after, properties.batchSize()).stream()
                            .map(ref -> ref.substring("dek/".length())).toList();
            for (PatientKeyring.Removal removal : hsm.parallel(page, compartment ->
                    deks.removeUnreferenced(compartment, inUse.getOrDefault(compartment, Set.of())))) {
                destroyed += removal.removed().size();
                leftovers |= removal.remaining() > 1;
            }
            if (compartments != null || page.isEmpty()) {
                break;
            }
            after = "dek/" + page.get(page.size() - 1);
        }
        if (destroyed > 0) {
            runner.audit("/keys/dek/old-keys-destroyed", job.scope());
        }
        if (leftovers) {
            // Ciphertexts still name an old key (written by a node whose view was stale).
            return runner.anotherPass(job, "reencrypt", "Old data keys are still referenced");
        }
        return runner.finish(job);
    }

    /**
     * Every store of ciphertexts under data keys, in a fixed order (by name) so that a checkpoint
     * names a position that means the same after a restart.
     */
    private List<EncryptedStore> encryptedStores() {
        List<EncryptedStore> all = stores.stream().sorted(Comparator.comparing(EncryptedStore::name)).toList();
        if (all.isEmpty()) {
            throw new IllegalStateException("No store of encrypted data is registered");
        }
        return all;
    }

    /**
     * Where a re-encryption pass stands: the index of the store in {@link #encryptedStores()} and
     * that store's cursor (null: its start). Checkpoints read "store-name:cursor"; one without a
     * store name (written before reasons were re-encrypted too) is a cursor of the record versions.
     */
    private record Position(int store, String cursor) {}

    private Position position(List<EncryptedStore> all, String checkpoint) {
        if (checkpoint == null) {
            return new Position(0, null);
        }
        int colon = checkpoint.indexOf(':');
        String name = colon < 0 ? records.getObject().name() : checkpoint.substring(0, colon);
        String cursor = colon < 0 ? checkpoint : checkpoint.substring(colon + 1);
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).name().equals(name)) {
                return new Position(i, cursor.isEmpty() ? null : cursor);
            }
        }
        // Fail closed: skipping a store would let the destroy phase take keys it still needs.
        throw new IllegalStateException("A key job checkpoint names an encrypted store that is not registered");
    }
}
