package health.carapace;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.access.AccessPolicy;
import health.carapace.audit.AuditTrail;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.platform.config.ProductionReadiness;
import health.carapace.platform.config.ReadinessCheck;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.context.annotation.ClassPathScanningCandidateComponentProvider;
import org.springframework.core.type.filter.AssignableTypeFilter;

/**
 * Each module's production-readiness check runs only if it is registered in
 * {@code META-INF/spring.factories} (the checks run before any bean exists, so component scanning
 * cannot find them): a check written and not registered, or a module that owns production settings
 * without one, fails here.
 */
class ReadinessContributionsTest {

    @Test
    void everyReadinessCheckInTheCodeIsRegistered() {
        var scanner = new ClassPathScanningCandidateComponentProvider(false);
        scanner.addIncludeFilter(new AssignableTypeFilter(ReadinessCheck.class));
        Set<String> written = scanner.findCandidateComponents(CarapaceApplication.class.getPackageName()).stream()
                .map(BeanDefinition::getBeanClassName).collect(Collectors.toSet());

        Set<String> registered = ProductionReadiness.checks().stream()
                .map(check -> check.getClass().getName()).collect(Collectors.toSet());

        assertThat(written).isNotEmpty();
        assertThat(registered).containsExactlyInAnyOrderElementsOf(written);
    }

    @Test
    void everyModuleWithProductionSettingsContributesACheck() {
        Set<String> contributing = ProductionReadiness.checks().stream()
                .map(check -> moduleOf(check.getClass())).collect(Collectors.toSet());

        // platform: log format, PHI database, HTTPS; crypto: KEK and keyring; audit: witness
        // directory; access: policy directory. Named by a type of each, so a module's rename keeps it.
        List<String> owningProductionSettings = List.of(ProductionReadiness.class, KeyEncryptionKey.class,
                AuditTrail.class, AccessPolicy.class).stream()
                .map(ReadinessContributionsTest::moduleOf).toList();
        assertThat(contributing).containsAll(owningProductionSettings);
    }

    /** The application module a class belongs to: its package right under {@code health.carapace}. */
    private static String moduleOf(Class<?> type) {
        String inApplication = type.getPackageName().substring(CarapaceApplication.class.getPackageName().length() + 1);
        return inApplication.split("\\.")[0];
    }
}
