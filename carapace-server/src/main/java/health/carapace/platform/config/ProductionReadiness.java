package health.carapace.platform.config;

import health.carapace.platform.logging.LogSafe;
import health.carapace.platform.logging.SafeMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;
import org.springframework.core.io.support.SpringFactoriesLoader;
import org.springframework.stereotype.Component;

/**
 * Runs as a bean-factory post-processor, so before any other bean is created (no connection
 * opened, no key touched), and refuses to start a server whose configuration would break a
 * protection. {@code carapace.mode} must be set explicitly, in every mode; everything else is
 * each module's own {@link ReadinessCheck} (registered in {@code META-INF/spring.factories}),
 * whose problems are reported together, and whose warnings are logged when the server starts.
 */
@Component
public final class ProductionReadiness implements BeanFactoryPostProcessor, EnvironmentAware {

    private static final Logger log = LoggerFactory.getLogger(ProductionReadiness.class);

    private Environment environment;

    /** Thrown with every problem at once, so an operator fixes them in one round. */
    public static final class NotReady extends IllegalStateException implements SafeMessage {
        NotReady(String message) {
            super(message);
        }
    }

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
        List<String> problems = problems(environment);
        if (!problems.isEmpty()) {
            throw new NotReady("Carapace refuses to start:\n  - " + String.join("\n  - ", problems));
        }
        Mode mode = Mode.of(environment).orElseThrow();
        for (ReadinessCheck check : checks()) {
            for (String warning : check.warnings(mode, environment)) {
                log.warn("{}", LogSafe.of(warning));
            }
        }
    }

    /** Every problem every module finds with the configuration in {@code env}; empty when ready. */
    public static List<String> problems(Environment env) {
        Optional<Mode> mode = Mode.of(env);
        if (mode.isEmpty()) {
            return List.of("carapace.mode must be 'prod' (./carapace start) or 'dev' (./carapace start-dev)");
        }
        List<String> problems = new ArrayList<>();
        for (ReadinessCheck check : checks()) {
            problems.addAll(check.problems(mode.get(), env));
        }
        return problems;
    }

    /** Every module's check, in the order of {@code META-INF/spring.factories}. */
    public static List<ReadinessCheck> checks() {
        return SpringFactoriesLoader.loadFactories(ReadinessCheck.class, ProductionReadiness.class.getClassLoader());
    }
}
