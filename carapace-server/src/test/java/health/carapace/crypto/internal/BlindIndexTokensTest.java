package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.prf.PrfSet;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.Provider;
import java.security.spec.AlgorithmParameterSpec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.MacSpi;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * A blind-index token is the leading bits of HMAC-SHA256 under the index's own key, whoever
 * computes it and however many threads compute at once: tokens now come from clones of one keyed
 * Mac per index (issue 13 item 5) and must equal a Mac keyed afresh for every value.
 */
class BlindIndexTokensTest extends IntegrationTest {

    @Autowired
    private TinkBlindIndex blindIndex;

    @Autowired
    private KeyringStore store;

    @Autowired
    private KekRing kek;

    @Test
    void tokensAreTheIndexKeysHmacWhateverTheNumberOfThreads() throws Exception {
        int version = blindIndex.activeVersion();
        String[] indexes = {"Patient.identifier", "Patient.name", "Observation.code"};
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> mismatches = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                mismatches.add(threads.submit(() -> {
                    int wrong = 0;
                    for (int i = 0; i < 2_000; i++) {
                        String index = indexes[(thread + i) % indexes.length];
                        String value = "value-" + thread + "-" + i;
                        int bits = 1 + (i % 32);
                        if (blindIndex.token(version, index, value, bits) != expected(version, index, value, bits)) {
                            wrong++;
                        }
                    }
                    return wrong;
                }));
            }
            for (Future<Integer> wrong : mismatches) {
                assertThat(wrong.get(60, TimeUnit.SECONDS)).isZero();
            }
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * After a rotation of the index root key both versions make tokens, each the HMAC under the
     * index key derived from its own root key version (review of issue 13 item 5, L4: the cache is
     * per version and index, and nothing showed that two versions never share an entry).
     */
    @Test
    void afterARotationEachVersionsTokensComeFromItsOwnKey() throws Exception {
        try (Scratch scratch = new Scratch(null)) {
            int first = scratch.index.activeVersion();
            int second = scratch.index.rotate();
            assertThat(second).isEqualTo(first + 1);
            assertThat(scratch.index.searchableVersions()).containsExactlyInAnyOrder(first, second);
            String[] indexes = {"Patient.identifier", "Patient.name"};
            int differing = 0;
            for (int i = 0; i < 200; i++) {
                String index = indexes[i % indexes.length];
                String value = "value-" + i;
                int bits = 1 + (i % 32);
                // interleaved, so that a cache keyed wrongly (by index alone) would hand one version the other's Mac
                int old = scratch.index.token(first, index, value, bits);
                int current = scratch.index.token(second, index, value, bits);
                assertThat(old).isEqualTo(expected(scratch.store, first, index, value, bits));
                assertThat(current).isEqualTo(expected(scratch.store, second, index, value, bits));
                if (scratch.index.token(first, index, value, 32) != scratch.index.token(second, index, value, 32)) {
                    differing++;
                }
            }
            assertThat(differing).as("two root key versions, two keys").isEqualTo(200);
        }
    }

    /**
     * L2 of the review: a token computation that derived a version's key before the version was
     * retired, and caches it after, must not leave it cached. The JCE provider's Mac is held in its
     * init (between deriving the key and caching it) while the version is retired.
     */
    @Test
    void aVersionRetiredWhileItsKeyIsBeingCachedIsNotLeftCached() throws Exception {
        GatedProvider provider = new GatedProvider();
        ExecutorService racer = Executors.newSingleThreadExecutor();
        try (Scratch scratch = new Scratch(provider)) {
            int first = scratch.index.activeVersion();
            int second = scratch.index.rotate();
            // the root of the first version is unwrapped already: only the Mac stands between derivation and cache
            scratch.index.token(first, "Patient.name", "warm", 32);
            scratch.index.keyedMacs.clear();

            provider.holdNextInit.set(true);
            Future<Integer> token = racer.submit(() -> scratch.index.token(first, "Patient.identifier", "x", 32));
            assertThat(provider.entered.await(30, TimeUnit.SECONDS)).isTrue();
            scratch.index.retire(first);
            provider.release.countDown();

            assertThatThrownBy(() -> token.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(KeyUnavailableException.class);
            assertThat(scratch.index.keyedMacs.keySet()).noneMatch(k -> k.startsWith(first + "/"));
            assertThatThrownBy(() -> scratch.index.token(first, "Patient.identifier", "x", 32))
                    .isInstanceOf(KeyUnavailableException.class);
            assertThat(scratch.index.token(second, "Patient.identifier", "x", 32))
                    .isEqualTo(expected(scratch.store, second, "Patient.identifier", "x", 32));
        } finally {
            racer.shutdownNow();
        }
    }

    /**
     * L3 of the review: with a provider whose Macs cannot be cloned, tokens are still the HMAC, and
     * a thread keys one Mac per index key rather than one per token.
     */
    @Test
    void aProviderThatCannotCloneMacsKeysOneMacPerThreadNotOnePerToken() throws Exception {
        GatedProvider provider = new GatedProvider();
        try (Scratch scratch = new Scratch(provider)) {
            int version = scratch.index.activeVersion();
            scratch.index.token(version, "Patient.name", "first", 32);
            int before = provider.inits.get();
            for (int i = 0; i < 500; i++) {
                String value = "value-" + i;
                int bits = 1 + (i % 32);
                assertThat(scratch.index.token(version, "Patient.name", value, bits))
                        .isEqualTo(expected(scratch.store, version, "Patient.name", value, bits));
            }
            assertThat(provider.inits.get() - before).as("Macs keyed for 500 tokens on one thread").isZero();
        }
    }

    private int expected(int version, String index, String value, int bits) throws Exception {
        return expected(store, version, index, value, bits);
    }

    /**
     * The token computed here from the stored root key: unwrapped from its row, the index key
     * derived as the scheme says (HKDF PRF of the index name), HMAC-SHA256 with a new Mac. Nothing
     * of TinkBlindIndex's own caches or derivation is used.
     */
    private int expected(KeyringStore keys, int version, String index, String value, int bits) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(expectedKeys.computeIfAbsent(List.of(keys, version, index), k -> indexKey(keys, version, index)));
        int first32 = ByteBuffer.wrap(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)), 0, 4).getInt();
        return bits == 32 ? first32 : first32 >>> (32 - bits);
    }

    /** The test's own memo of index keys (unwrapping the root per expected token would be slow). */
    private final Map<List<Object>, SecretKeySpec> expectedKeys = new ConcurrentHashMap<>();

    private SecretKeySpec indexKey(KeyringStore keys, int version, String index) {
        try {
            String ref = TinkBlindIndex.keyRef(version);
            KeyringStore.WrappedKey wrapped = keys.find(ref).orElseThrow();
            PrfSet root = TinkProtoKeysetFormat.parseEncryptedKeyset(wrapped.wrapped(),
                    kek.unwrapping(wrapped.kekId()), ref.getBytes(StandardCharsets.UTF_8))
                    .getPrimitive(RegistryConfiguration.get(), PrfSet.class);
            return new SecretKeySpec(root.computePrimary(("carapace/blind-index/v1/" + index)
                    .getBytes(StandardCharsets.UTF_8), 32), "HmacSHA256");
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A blind index over a keyring database of its own (the shared one's root key versions are
     * what every other test searches with: a rotation there would change them all).
     */
    private final class Scratch implements AutoCloseable {
        final KeyringStore store;
        final TinkBlindIndex index;

        Scratch(Provider macProvider) throws Exception {
            String shared = TestInstallation.get().properties().get("carapace.keyring.url").toString();
            String name = "blind_index_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            try (Connection owner = DriverManager.getConnection(shared, DevDatabase.OWNER, "")) {
                owner.createStatement().execute("create database " + name);
            }
            int slash = shared.lastIndexOf('/');
            int query = shared.indexOf('?', slash);
            String url = shared.substring(0, slash + 1) + name + (query < 0 ? "" : shared.substring(query));
            store = new KeyringStore(new KeyringProperties(url, DevDatabase.KEYRING_ROLE, "", DevDatabase.OWNER, "", 10,
                    Duration.ofMinutes(1), Duration.ofHours(1)));
            index = new TinkBlindIndex(store, kek, Duration.ofMinutes(1), macProvider);
        }

        @Override
        public void close() {
            store.destroy();
        }
    }

    /**
     * HmacSHA256 of the JDK behind a provider whose Macs cannot be cloned (MacSpi refuses unless
     * Cloneable), counting inits, and able to hold one init until released.
     */
    private static final class GatedProvider extends Provider {
        final AtomicInteger inits = new AtomicInteger();
        final AtomicBoolean holdNextInit = new AtomicBoolean();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        GatedProvider() {
            super("CarapaceTestHmac", "1.0", "JDK HmacSHA256, not cloneable (tests only)");
            putService(new Provider.Service(this, "Mac", "HmacSHA256", GatedSpi.class.getName(), null, null) {
                @Override
                public Object newInstance(Object parameter) {
                    return new GatedSpi(GatedProvider.this);
                }
            });
        }
    }

    private static final class GatedSpi extends MacSpi {
        private final GatedProvider provider;
        private Mac real;

        GatedSpi(GatedProvider provider) {
            this.provider = provider;
        }

        @Override
        protected int engineGetMacLength() {
            return 32;
        }

        @Override
        protected void engineInit(Key key, AlgorithmParameterSpec params)
                throws InvalidKeyException, InvalidAlgorithmParameterException {
            provider.inits.incrementAndGet();
            if (provider.holdNextInit.compareAndSet(true, false)) {
                provider.entered.countDown();
                try {
                    provider.release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            try {
                real = Mac.getInstance("HmacSHA256", "SunJCE");
            } catch (java.security.GeneralSecurityException e) {
                throw new InvalidKeyException(e);
            }
            real.init(key, params);
        }

        @Override
        protected void engineUpdate(byte input) {
            real.update(input);
        }

        @Override
        protected void engineUpdate(byte[] input, int offset, int len) {
            real.update(input, offset, len);
        }

        @Override
        protected byte[] engineDoFinal() {
            return real.doFinal();
        }

        @Override
        protected void engineReset() {
            real.reset();
        }
    }
}
