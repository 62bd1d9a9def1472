package health.carapace.crypto.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.testing.SoftHsm;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TokenInspector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * First start of a multi-node deployment: several nodes open the pkcs11 KEK at the same moment
 * against one empty keyring, each through its own keyring pool and its own SunPKCS11 provider, as
 * separate processes would.
 */
@ExtendWith(SoftHsm.Required.class)
class Pkcs11KekConcurrentStartTest {

    private static final int NODES = 4;
    private static final String KEY_LABEL = "carapace-kek";

    @Test
    void nodesStartingTogetherOnAnEmptyKeyringAllUseOneKekCreatedInTheToken() throws Exception {
        SoftHsm hsm = SoftHsm.get();
        SoftHsm.Token token = hsm.token(SoftHsm.CONCURRENT_START_TOKEN);
        KekProperties kekProperties = new KekProperties("pkcs11", null,
                new KekProperties.Pkcs11(hsm.library(), token.slotListIndex(), token.pin(), KEY_LABEL,
                        null, null, null));
        KeyringProperties keyringProperties = keyringProperties(TestInstallation.separate("kek-concurrent-start"));
        List<KeyringStore> stores = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
            stores.add(new KeyringStore(keyringProperties));
        }
        ExecutorService nodes = Executors.newFixedThreadPool(NODES);
        try {
            CyclicBarrier startTogether = new CyclicBarrier(NODES);
            List<Future<KeyEncryptionKey>> starting = new ArrayList<>();
            for (KeyringStore store : stores) {
                starting.add(nodes.submit(() -> {
                    startTogether.await();
                    return (KeyEncryptionKey) new CryptoConfiguration().keyEncryptionKey(kekProperties, store,
                            new UsageCounters(store), new KeysProperties(Duration.ofDays(90), Duration.ofHours(1),
                                    Duration.ofSeconds(10), 0, 1000, 1L << 30, Duration.ofDays(7)));
                }));
            }
            List<KeyEncryptionKey> keks = new ArrayList<>();
            for (Future<KeyEncryptionKey> node : starting) {
                keks.add(node.get(1, TimeUnit.MINUTES));
            }

            assertThat(TokenInspector.of(hsm.library()).secretKeys(token.slotListIndex(), KEY_LABEL)).hasSize(1);
            byte[] secret = "a DEK keyset".getBytes(UTF_8);
            byte[] associatedData = "dek/shared".getBytes(UTF_8);
            for (KeyEncryptionKey wrapping : keks) {
                byte[] wrapped = wrapping.encrypt(secret, associatedData);
                for (KeyEncryptionKey unwrapping : keks) {
                    assertThat(unwrapping.decrypt(wrapped, associatedData)).isEqualTo(secret);
                }
            }
        } finally {
            nodes.shutdownNow();
            stores.forEach(KeyringStore::destroy);
        }
    }

    private static KeyringProperties keyringProperties(DevEnvironment installation) {
        Map<String, Object> p = installation.properties();
        return new KeyringProperties((String) p.get("carapace.keyring.url"),
                (String) p.get("carapace.keyring.username"), (String) p.get("carapace.keyring.password"),
                (String) p.get("carapace.keyring.owner-username"), (String) p.get("carapace.keyring.owner-password"),
                100, Duration.ofMinutes(1), Duration.ofHours(1));
    }
}
