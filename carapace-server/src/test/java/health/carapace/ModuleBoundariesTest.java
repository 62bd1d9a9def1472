package health.carapace;

import org.junit.jupiter.api.Test;
import org.springframework.modulith.core.ApplicationModules;

/** Modules talk through their public API only: no cycles, no reaching into another's internals. */
class ModuleBoundariesTest {

    @Test
    void modulesRespectTheirBoundaries() {
        ApplicationModules.of(CarapaceApplication.class).verify();
    }
}
