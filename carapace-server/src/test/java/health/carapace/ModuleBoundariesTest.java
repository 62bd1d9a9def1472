package health.carapace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;
import org.springframework.modulith.core.ApplicationModules;
import org.springframework.modulith.core.Violations;

/**
 * Modules talk through their public API only, and only to the modules they declare
 * ({@code allowedDependencies} in each module's package-info): no cycles, no reaching into
 * another's internals. The fixtures prove that {@code verify()} does refuse both, so a green
 * {@link #modulesRespectTheirBoundaries} means something.
 */
class ModuleBoundariesTest {

    private static final String FIXTURES = "health.carapace.testing.boundaries.";
    /** The fixtures are test classes, which the default import leaves out. */
    private static final ImportOption TEST_CLASSES_TOO = location -> true;

    @Test
    void modulesRespectTheirBoundaries() {
        ApplicationModules.of(CarapaceApplication.class).verify();
    }

    @Test
    void verifyRefusesAModuleThatReachesIntoAnotherModulesInternals() {
        ApplicationModules modules = ApplicationModules.of(FIXTURES + "reachinginside", TEST_CLASSES_TOO);

        assertThatThrownBy(modules::verify)
                .isInstanceOf(Violations.class)
                // billing is declared, but only its API (the unnamed interface) is allowed: the
                // dependency on its internal Ledger is named and refused.
                .hasMessageContaining("Module 'orders' depends on module 'billing' via "
                        + FIXTURES + "reachinginside.orders.Checkout -> "
                        + FIXTURES + "reachinginside.billing.internal.Ledger");
    }

    @Test
    void verifyRefusesADependencyTheModuleDoesNotDeclare() {
        ApplicationModules modules = ApplicationModules.of(FIXTURES + "undeclared", TEST_CLASSES_TOO);

        assertThatThrownBy(modules::verify)
                .isInstanceOf(Violations.class)
                .hasMessageContaining("Module 'orders' depends on module 'billing' via "
                        + FIXTURES + "undeclared.orders.Checkout -> " + FIXTURES + "undeclared.billing.Invoices");
    }

    @Test
    void verifyAcceptsTheSameDependencyOnceDeclared() {
        ApplicationModules modules = ApplicationModules.of(FIXTURES + "declared", TEST_CLASSES_TOO);

        assertThat(modules.detectViolations().getMessages()).isEmpty();
        assertThat(modules.getModuleByName("orders")).isPresent();
        assertThat(modules.getModuleByName("billing")).isPresent();
    }
}
