package health.carapace.cli;

import health.carapace.backup.BackupArchive;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Makes the backup key pair, on the operator's machine (no server, no database). */
@Command(name = "keys", mixinStandardHelpOptions = true,
        description = {"Generates a backup key pair (HPKE X25519): backup-private-key.json (keep it offline, apart",
            "from the backups: restore needs it) and backup-public-key.json (give it to backup with --public-key,",
            "or set carapace.backup.public-key)."})
final class BackupKeysCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--out-dir", required = true, description = "An existing directory to write the two files into.")
    Path dir;

    @Override
    public Integer call() {
        var err = spec.commandLine().getErr();
        Path privateKey = dir.resolve("backup-private-key.json");
        Path publicKey = dir.resolve("backup-public-key.json");
        var pair = BackupArchive.newKeyPair();
        try {
            Files.writeString(Files.createFile(privateKey,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
                    pair.privateKeysetJson());
            Files.writeString(Files.createFile(publicKey), pair.publicKeysetJson());
        } catch (IOException e) {
            err.println("cannot create the key files in --out-dir (it must exist, be writable, and not hold a backup "
                    + "key already)");
            err.flush();
            return 2;
        }
        var out = spec.commandLine().getOut();
        out.println("private key:   " + privateKey + " (keep offline, apart from the backups; restore needs it)");
        out.println("public key:    " + publicKey + " (backup --public-key, or carapace.backup.public-key)");
        out.println("key id:        " + BackupArchive.keyId(BackupArchive.readPublicKey(pair.publicKeysetJson())));
        out.flush();
        return 0;
    }
}
