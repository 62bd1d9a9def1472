package health.carapace.platform.web;

import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A dependency the server cannot serve PHI requests without, checked for readiness
 * ({@code GET /health/ready}). Each module contributes its own (the PHI database here, the keyring
 * in crypto); a probe never throws. Readiness waits for a probe at most
 * {@code carapace.health.probe-timeout}, so a probe stuck on a pool's connection wait answers DOWN.
 */
public interface DependencyProbe {

    /** A fixed name for logs, never shown to callers: {@code phi-database}, {@code keyring}. */
    String name();

    boolean reachable();

    /** A database answers {@code select 1} through {@code dataSource} (its pool's connection wait applies). */
    static DependencyProbe database(String name, DataSource dataSource) {
        JdbcClient jdbc = JdbcClient.create(dataSource);
        return new DependencyProbe() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean reachable() {
                try {
                    jdbc.sql("select 1").query(Integer.class).single();
                    return true;
                } catch (RuntimeException e) {
                    return false;
                }
            }
        };
    }
}
