package health.carapace.platform.metrics;

import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * One Prometheus registry, with every {@link MeterBinder} bean bound to it. Carapace does not
 * use Spring Boot Actuator: its endpoints would be a second, separately secured surface; the
 * registry is served by {@link MetricsEndpoint} only, behind {@code view:metrics}.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication
class MetricsConfiguration {

    @Bean(destroyMethod = "close")
    PrometheusMeterRegistry prometheusMeterRegistry(ObjectProvider<MeterBinder> binders) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        binders.orderedStream().forEach(binder -> binder.bindTo(registry));
        return registry;
    }
}
