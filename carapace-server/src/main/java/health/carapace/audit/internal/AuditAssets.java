package health.carapace.audit.internal;

import health.carapace.compliance.Asset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/** The Kafka brokers the audit relay delivers to, and the witness directory, for the inventory. */
@Component
class AuditAssets implements Asset.Source {

    private final String bootstrapServers;
    private final String witnessDirectory;

    AuditAssets(@Value("${carapace.audit.kafka.bootstrap-servers:}") String bootstrapServers,
            @Value("${carapace.audit.witness-dir}") String witnessDirectory) {
        this.bootstrapServers = bootstrapServers;
        this.witnessDirectory = witnessDirectory;
    }

    @Override
    public List<Asset> assets() {
        List<Asset> assets = new ArrayList<>();
        if (!bootstrapServers.isBlank()) {
            for (String broker : bootstrapServers.split(",")) {
                assets.add(new Asset("message-broker", "Kafka broker " + broker.strip(), null,
                        Map.of("security.protocol", "PLAINTEXT: the relay configures no TLS (events hold references, no PHI)"),
                        List.of("audit -> Kafka: audit events (references, no PHI) and signed tree heads")));
            }
        }
        assets.add(new Asset("storage", "audit witness directory", null, Map.of("path", witnessDirectory),
                List.of("audit -> witness directory: signed tree heads only")));
        return assets;
    }
}
