package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
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

    private int expected(int version, String index, String value, int bits) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(blindIndex.indexKey(version, index));
        int first32 = ByteBuffer.wrap(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)), 0, 4).getInt();
        return bits == 32 ? first32 : first32 >>> (32 - bits);
    }
}
