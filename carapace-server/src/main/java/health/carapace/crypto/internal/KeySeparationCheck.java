package health.carapace.crypto.internal;

import health.carapace.platform.logging.SafeMessage;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Key separation (issue #5 item 7) asked of the database itself, at startup: the PHI connection
 * and the keyring connection must be different database users, and the PHI user must not be able
 * to read the keyring (role membership, a grant, or a superuser would let it). The configuration
 * check ({@link KeyringReadiness}) compares the configured names only; a {@code user=} in a JDBC URL
 * overrides them, and a grant makes different names meaningless. {@code start} refuses,
 * {@code start-dev} warns. Messages name no user.
 */
final class KeySeparationCheck implements SmartInitializingSingleton {

    private static final Logger log = LoggerFactory.getLogger(KeySeparationCheck.class);

    static final class NotSeparated extends IllegalStateException implements SafeMessage {
        NotSeparated(String message) {
            super(message);
        }
    }

    private final JdbcClient phi;
    private final KeyringStore keyring;
    private final Environment environment;

    KeySeparationCheck(DataSource phi, KeyringStore keyring, Environment environment) {
        this.phi = JdbcClient.create(phi);
        this.keyring = keyring;
        this.environment = environment;
    }

    @Override
    public void afterSingletonsInstantiated() {
        problem().ifPresent(problem -> {
            if ("dev".equals(environment.getProperty("carapace.mode"))) {
                log.warn("Key separation is off: {}. ./carapace start refuses this.", problem);
            } else {
                throw new NotSeparated("Carapace refuses to start: " + problem);
            }
        });
    }

    /** What breaks key separation on the live connections, if anything. */
    Optional<String> problem() {
        String keyringUser = keyring.currentUser();
        var phiSide = phi.sql("""
                select current_user::text,
                       coalesce((select has_schema_privilege(n.oid, 'USAGE') and has_table_privilege(c.oid, 'SELECT')
                                 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                                 where n.nspname = 'keyring' and c.relname = 'wrapped_key'), false)""")
                .query((rs, n) -> new Object[] {rs.getString(1), rs.getBoolean(2)})
                .single();
        if (keyringUser.equals(phiSide[0])) {
            return Optional.of("the keyring and the PHI tables are reached as the same database user");
        }
        if ((Boolean) phiSide[1]) {
            return Optional.of("the PHI database user can read the keyring (a role membership, a grant, "
                    + "or a superuser)");
        }
        return Optional.empty();
    }
}
