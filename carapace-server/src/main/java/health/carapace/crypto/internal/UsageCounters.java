package health.carapace.crypto.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Encryptions per key, counted in memory on the hot path and added to the keyring's persisted
 * counters at each flush (every few seconds, before a status report, at shutdown). A crash loses
 * at most the counts since the last flush, which is why the warning sits at a quarter of the bound.
 */
final class UsageCounters implements org.springframework.beans.factory.DisposableBean {

    private final KeyringStore store;
    private final ConcurrentMap<String, LongAdder> keks = new ConcurrentHashMap<>();
    private final ConcurrentMap<Map.Entry<String, Long>, LongAdder> deks = new ConcurrentHashMap<>();

    UsageCounters(KeyringStore store) {
        this.store = store;
    }

    void kekEncryption(String kekId) {
        keks.computeIfAbsent(kekId, k -> new LongAdder()).increment();
    }

    void dekEncryption(String keyRef, long keyId) {
        deks.computeIfAbsent(Map.entry(keyRef, keyId), k -> new LongAdder()).increment();
    }

    synchronized void flush() {
        Map<String, Long> kekCounts = drain(keks);
        Map<Map.Entry<String, Long>, Long> dekCounts = drain(deks);
        try {
            store.addKekEncryptions(kekCounts);
            store.addDekEncryptions(dekCounts);
        } catch (RuntimeException e) {
            // keep the counts for the next flush rather than under-count
            kekCounts.forEach((k, n) -> keks.computeIfAbsent(k, x -> new LongAdder()).add(n));
            dekCounts.forEach((k, n) -> deks.computeIfAbsent(k, x -> new LongAdder()).add(n));
            throw e;
        }
    }

    @Override
    public void destroy() {
        try {
            flush();
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(UsageCounters.class).warn("Key usage counters could not be saved", e);
        }
    }

    private static <K> Map<K, Long> drain(ConcurrentMap<K, LongAdder> counters) {
        Map<K, Long> drained = new HashMap<>();
        counters.forEach((key, adder) -> {
            long n = adder.sumThenReset();
            if (n > 0) {
                drained.put(key, n);
            }
        });
        return drained;
    }
}
