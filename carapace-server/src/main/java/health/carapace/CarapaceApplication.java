package health.carapace;

import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The Carapace server. Started only through the {@code carapace} launcher ({@link Carapace}),
 * which decides the mode; {@code ProductionReadiness} (a bean-factory post-processor found by this
 * class's component scan, so every context of the application runs it) checks the configuration
 * before any bean, with each module's checks registered in {@code META-INF/spring.factories}.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class CarapaceApplication {

    /**
     * Runs the application with {@code defaults} as its lowest-precedence properties, so that
     * environment variables and {@code --name=value} arguments override them.
     */
    public static ConfigurableApplicationContext run(Map<String, Object> defaults, boolean web, String... args) {
        SpringApplication app = new SpringApplication(CarapaceApplication.class);
        app.setDefaultProperties(defaults);
        app.setWebApplicationType(web ? WebApplicationType.SERVLET : WebApplicationType.NONE);
        app.setRegisterShutdownHook(false);
        return app.run(args);
    }
}
