package health.carapace.platform.config;

import java.util.List;
import org.springframework.core.env.Environment;

/**
 * One module's check of its own settings, run by {@link ProductionReadiness} before any bean is
 * created, so that a server whose configuration would break a protection never opens a
 * connection or touches a key. Each module checks the settings it owns; platform knows none of
 * theirs.
 *
 * <p>Not a bean (none exists yet): an implementation is registered in
 * {@code META-INF/spring.factories} under this interface's name and needs a no-argument
 * constructor. It reads the {@link Environment} only: no files beyond a plain existence check,
 * no connections. Checks of the running server (live connections, loaded keys) belong in a bean
 * after startup instead, as {@code KeySeparationCheck} and {@link AlgorithmInventory} do; the
 * compliance checks planned in issue #14 are of that kind and sit beside this interface, free to
 * report the readiness problems too through {@link ProductionReadiness#problems}.
 */
public interface ReadinessCheck {

    /**
     * What would break a protection if the server started in {@code mode}: one sentence per
     * problem, naming the setting and what is wrong, never its value (a password, a path with a
     * patient's name). Empty when ready.
     */
    List<String> problems(Mode mode, Environment environment);

    /**
     * Configurations allowed in {@code mode} but weaker than {@code start} accepts, logged when the
     * server starts anyway. Constant sentences: they are logged, so no setting's value.
     */
    default List<String> warnings(Mode mode, Environment environment) {
        return List.of();
    }
}
