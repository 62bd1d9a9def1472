package health.carapace.console.internal;

import health.carapace.incident.Drills;
import health.carapace.platform.web.PublicBaseUrl;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Drills run from the console's Drills page ({@link DrillRuns}). Command-line contexts have the bean
 * too and never start one (its thread and TLS are made on first use).
 */
@Configuration(proxyBeanMethods = false)
class ConsoleDrillConfiguration {

    /** How long a drill waits for the detectors, as {@code drill run}'s default. */
    static final Duration DETECTION_TIMEOUT = Duration.ofMinutes(2);

    @Bean
    DrillRuns consoleDrillRuns(Drills drills, PublicBaseUrl baseUrl, Clock clock,
            @Value("${carapace.console.drill-role:records-service}") String role,
            @Value("${server.ssl.key-store:}") String keyStore,
            @Value("${server.ssl.key-store-type:PKCS12}") String keyStoreType,
            @Value("${server.ssl.key-store-password:}") String keyStorePassword) {
        return new DrillRuns(drills, () -> URI.create(baseUrl.value()),
                () -> ConsoleConfiguration.trustingOwnCertificate(keyStore, keyStoreType, keyStorePassword), role,
                DETECTION_TIMEOUT, clock);
    }
}
