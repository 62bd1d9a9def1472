package health.carapace.platform.config;

import health.carapace.platform.logging.LogSafe;
import health.carapace.platform.logging.SafeMessage;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The algorithm check, in both modes: once every bean exists (keys unwrapped, signing keys
 * loaded) and before the HTTPS port opens, lists every algorithm in use, logs the inventory
 * (names only), and refuses to start if any is below {@link AlgorithmPolicy#FLOOR}.
 */
@Component
public final class AlgorithmHygiene implements SmartInitializingSingleton {

    private static final Logger log = LoggerFactory.getLogger(AlgorithmHygiene.class);

    /** Thrown with every weak algorithm at once. */
    public static final class WeakAlgorithms extends IllegalStateException implements SafeMessage {
        WeakAlgorithms(String message) {
            super(message);
        }
    }

    private final ObjectProvider<AlgorithmInventory> inventories;
    private final Environment environment;
    private final ObjectProvider<SslBundles> sslBundles;

    AlgorithmHygiene(ObjectProvider<AlgorithmInventory> inventories, Environment environment,
            ObjectProvider<SslBundles> sslBundles) {
        this.inventories = inventories;
        this.environment = environment;
        this.sslBundles = sslBundles;
    }

    @Override
    public void afterSingletonsInstantiated() {
        List<AlgorithmUse> uses = inventory();
        for (AlgorithmUse use : uses) {
            log.info("Algorithm in use: {}", LogSafe.of(use));
        }
        check(uses);
    }

    /** Every algorithm in use: each module's report and the TLS settings. */
    public List<AlgorithmUse> inventory() {
        List<AlgorithmUse> uses = new ArrayList<>();
        inventories.orderedStream().forEach(inventory -> uses.addAll(inventory.algorithmsInUse()));
        uses.addAll(TlsAlgorithms.of(environment, sslBundles.getIfAvailable()));
        return uses;
    }

    /** Refuses {@code uses} if any is below the floor, naming each. */
    public static void check(List<AlgorithmUse> uses) {
        List<String> problems = AlgorithmPolicy.problems(uses);
        if (!problems.isEmpty()) {
            throw new WeakAlgorithms("Carapace refuses to start: algorithms below the floor (" + AlgorithmPolicy.FLOOR
                    + "):\n  - " + String.join("\n  - ", problems));
        }
    }
}
