package health.carapace.platform.config;

import java.time.Clock;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The one clock of the server. Whatever decides by time (session deadlines, sign-in back-off,
 * TOTP steps, permission time windows, key rotation ages) takes it by injection rather than
 * reading {@code Instant.now()}, so that a test can move it instead of sleeping.
 */
@Configuration(proxyBeanMethods = false)
class TimeConfiguration {

    @Bean
    @ConditionalOnMissingBean
    Clock clock() {
        return Clock.systemUTC();
    }
}
