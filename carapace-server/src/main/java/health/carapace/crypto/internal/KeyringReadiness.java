package health.carapace.crypto.internal;

import health.carapace.platform.config.DatabaseFailover;
import health.carapace.platform.config.DatabaseReadiness;
import health.carapace.platform.config.Mode;
import health.carapace.platform.config.ReadinessCheck;
import java.util.ArrayList;
import java.util.List;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/**
 * The keyring's database ({@code carapace.keyring}): in {@code start} reached over verified TLS
 * and as a database user other than the PHI tables' ({@code carapace.db.username}), so that a SQL
 * injection in the record path cannot read wrapped keys. {@code start-dev} allows a shared user
 * with a warning. These compare the configured names only; {@link KeySeparationCheck} asks the
 * live connections.
 */
final class KeyringReadiness implements ReadinessCheck {

    @Override
    public List<String> problems(Mode mode, Environment environment) {
        List<String> problems = new ArrayList<>();
        DatabaseFailover.problem("carapace.keyring.url", environment.getProperty("carapace.keyring.url"))
                .ifPresent(problems::add);
        if (mode != Mode.PROD) {
            return problems;
        }
        DatabaseReadiness.verifiedTlsProblem(environment, "carapace.keyring.url").ifPresent(problems::add);
        String phiUser = environment.getProperty("carapace.db.username", "");
        String keyringUser = environment.getProperty("carapace.keyring.username", "");
        if (!StringUtils.hasText(phiUser) || !StringUtils.hasText(keyringUser)) {
            problems.add("carapace.db.username and carapace.keyring.username are required");
        } else if (phiUser.equals(keyringUser)) {
            problems.add("the keyring and the PHI tables must be reached as different database users "
                    + "(carapace.keyring.username equals carapace.db.username)");
        }
        return problems;
    }

    @Override
    public List<String> warnings(Mode mode, Environment environment) {
        if (mode != Mode.DEV || !sharesPhiUser(environment)) {
            return List.of();
        }
        // A constant message: no user names.
        return List.of("Key separation is off: the keyring and the PHI tables are reached as the same database user "
                + "(carapace.keyring.username equals carapace.db.username), so a SQL injection in the record "
                + "path could read wrapped keys. ./carapace start refuses this configuration.");
    }

    private static boolean sharesPhiUser(Environment environment) {
        String phiUser = environment.getProperty("carapace.db.username", "");
        return StringUtils.hasText(phiUser) && phiUser.equals(environment.getProperty("carapace.keyring.username", ""));
    }
}
