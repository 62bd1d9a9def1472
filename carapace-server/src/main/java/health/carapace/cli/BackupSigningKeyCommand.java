package health.carapace.cli;

import health.carapace.backup.BackupArchive;
import health.carapace.backup.Backups;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Exports the public half of the installation's manifest-signing key (ADR 0040): the key a restore
 * trusts. It is not written into any backup, so that a forged backup cannot bring its own.
 */
@Command(name = "signing-key", mixinStandardHelpOptions = true,
        description = {"Writes the public half of this installation's backup manifest-signing key (Ed25519, PEM) to",
            "a new file and prints its id. Keep the file apart from the backups (restore --signing-key needs it)",
            "and pin the id with carapace.backup.signing-key-id on the installation that restores."})
final class BackupSigningKeyCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--out", required = true, description = "A new file for the public key (PEM).")
    Path out;

    @Override
    public Integer call() throws Exception {
        var err = spec.commandLine().getErr();
        if (Files.exists(out)) {
            err.println("NOT WRITTEN: --out names a file that exists: give a new file");
            err.flush();
            return 2;
        }
        PublicKey key = installation.run(ctx -> ctx.getBean(Backups.class).signingPublicKey());
        try {
            Files.writeString(Files.createFile(out), BackupArchive.pem(key), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            err.println("NOT WRITTEN: --out cannot be created (its directory must exist and be writable)");
            err.flush();
            return 2;
        }
        var stdout = spec.commandLine().getOut();
        stdout.println("signing key:   " + out + " (keep it apart from the backups: restore --signing-key)");
        stdout.println("key id:        " + BackupArchive.signingKeyId(key));
        stdout.println("pin it:        carapace.backup.signing-key-id=" + BackupArchive.signingKeyId(key));
        stdout.flush();
        return 0;
    }
}
