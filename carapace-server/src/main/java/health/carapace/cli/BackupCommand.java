package health.carapace.cli;

import com.google.crypto.tink.KeysetHandle;
import health.carapace.backup.BackupArchive;
import health.carapace.backup.BackupRefused;
import health.carapace.backup.Backups;
import health.carapace.backup.Progress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "backup", mixinStandardHelpOptions = true, subcommands = {BackupKeysCommand.class, BackupSigningKeyCommand.class},
        description = {"Writes a consistent, encrypted backup of the installation into a new directory: the PHI",
            "database and the keyring as two separate files (PostgreSQL's pg_dump of one snapshot, gzip, sealed to",
            "the backup public key), and a manifest signed by the installation's backup signing key. Progress on",
            "stderr. The server may keep serving meanwhile. Exit 0 written, 2 unusable options or settings,",
            "4 a database or tool failed (nothing is left in --out). See docs/RELIABILITY.md."})
final class BackupCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--out", description = "A new (or empty) directory for this backup.")
    Path out;

    @CommandLine.Option(names = "--public-key",
            description = "The backup public key (default: the setting carapace.backup.public-key).")
    Path publicKey;

    @Override
    public Integer call() throws Exception {
        var err = spec.commandLine().getErr();
        if (out == null) {
            err.println("--out DIR is required (a new directory for this backup)");
            err.flush();
            return BackupRefused.UNUSABLE;
        }
        if (Files.exists(out) && (!Files.isDirectory(out) || !isEmpty(out))) {
            err.println("NOT WRITTEN: --out must name a new or empty directory: give a new directory for each backup");
            err.flush();
            return BackupRefused.UNUSABLE;
        }
        Progress progress = line -> {
            err.println(line);
            err.flush();
        };
        try {
            KeysetHandle recipient = publicKey == null ? null : readPublicKey(publicKey);
            Backups.Made made = installation.run(ctx -> ctx.getBean(Backups.class).make(out, recipient, operator(),
                    progress));
            BackupArchive.Manifest m = made.manifest();
            var stdout = spec.commandLine().getOut();
            stdout.println("backup:        " + made.directory() + " (made " + m.madeAt() + ", " + m.consistency() + ")");
            for (BackupArchive.FileEntry file : m.files()) {
                stdout.println(String.format("%-14s %s, %d bytes, %d tables, sha-256 %s", file.database() + ":",
                        file.name(), file.bytes(), file.tables(), file.sha256()));
            }
            stdout.println("schema:        phi " + m.schemaVersions().get(BackupArchive.PHI) + ", keyring "
                    + m.schemaVersions().get(BackupArchive.KEYRING) + "; KEK " + m.kekId());
            stdout.println("sealed to:     " + m.recipientKeyId());
            stdout.println("signed by:     " + m.signingKeyId() + " (restore trusts only the key exported with "
                    + "./carapace backup signing-key, kept apart from the backups)");
            // What a restore's --ledger-head needs, kept off-host (ADR 0049); the latest at restore time is
            // better still (./carapace keys shredding head), since a ledger grows after the backup.
            for (var head : made.ledgerHeads()) {
                stdout.println("ledger head:   " + head + " (keep it off-host with this backup's record; before a "
                        + "restore, take the latest: ./carapace keys shredding head)");
            }
            if (made.ledgerHeads().isEmpty()) {
                stdout.println("ledger head:   none recorded (no shredding approved yet): a restore of this backup "
                        + "needs --ledger-head from later, or --no-ledger-head");
            }
            stdout.flush();
            return 0;
        } catch (BackupRefused refused) {
            err.println("NOT WRITTEN: " + refused.getMessage());
            err.flush();
            return refused.exitCode();
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var listing = Files.list(dir)) {
            return listing.findAny().isEmpty();
        }
    }

    private static KeysetHandle readPublicKey(Path file) {
        try {
            return BackupArchive.readPublicKey(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "--public-key cannot be read");
        }
    }
}
