package health.carapace.cli;

import health.carapace.crypto.HsmLogins;
import health.carapace.platform.dev.DevEnvironment;
import java.sql.SQLException;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "reset-hsm-logins", mixinStandardHelpOptions = true,
        description = {"Sets the installation's count of HSM logins refused for the PIN back to 0 (ADR 0049). Every",
            "node and command shares that count in the keyring; once it reaches",
            "carapace.kek.pkcs11.refused-login-attempts none of them sends the token a login, so that a wrong PIN",
            "cannot lock the token. Run it after checking carapace.kek.pkcs11.pin against the token: each reset",
            "allows that many refused logins again. Starts no application and no HSM session; running nodes",
            "notice within carapace.kek.pkcs11.reopen-max-interval. Exit 0 reset, 4 the keyring cannot be reached."})
final class ResetHsmLoginsCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        HsmLogins.Reset before;
        try {
            if (installation.production) {
                before = HsmLogins.reset(installation.settings(Map.of()), operator());
            } else {
                try (DevEnvironment dev = DevEnvironment.open(installation.dataDir)) {
                    before = HsmLogins.reset(installation.settings(dev.properties()), operator());
                }
            }
        } catch (SQLException e) {
            // the SQLSTATE only: a driver's message may carry the URL or the user
            spec.commandLine().getErr().println("NOT RESET: the keyring cannot be reached (SQLSTATE " + e.getSQLState() + ")");
            spec.commandLine().getErr().flush();
            return 4;
        }
        var out = spec.commandLine().getOut();
        out.println("HSM logins:    reset by " + operator() + "; before: " + before.refused() + " refused"
                + (before.lastCode() == null ? "" : ", last " + before.lastCode())
                + (before.lastAttemptAt() == null ? "" : ", last login tried " + before.lastAttemptAt()));
        out.println("next:          nodes and commands may send the token a login again; if the PIN is still wrong the"
                + " count starts again from 0");
        out.flush();
        return 0;
    }
}
