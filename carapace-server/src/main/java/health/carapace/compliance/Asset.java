package health.carapace.compliance;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One technology asset of the running system for the inventory and network map (NPRM): a
 * component in use, its version where known, its settings that matter (TLS, mechanisms), and the
 * ePHI flows it takes part in ("records → PostgreSQL (phi schema): ciphertext only").
 *
 * @param kind a word such as {@code database}, {@code hsm}, {@code message-broker}, {@code listener}
 */
public record Asset(String kind, String name, String version, Map<String, String> details, List<String> flows) {

    public Asset {
        details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
        flows = List.copyOf(flows);
    }

    /** What a module contributes to the inventory: the assets it talks to. A bean. */
    public interface Source {
        List<Asset> assets();
    }
}
