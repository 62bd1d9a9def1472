package health.carapace.cli;

import com.google.crypto.tink.KeysetHandle;
import health.carapace.incident.EvidenceBundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Makes the evidence key pair, on the compliance officer's machine (no server, no database). */
@Command(name = "evidence-keys", mixinStandardHelpOptions = true,
        description = {"Generates an evidence key pair (HPKE X25519): evidence-private-key.json (keep it offline,",
            "with the compliance officer) and evidence-public-key.json (configure it as",
            "carapace.incident.evidence.public-key)."})
final class EvidenceKeysCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--out-dir", required = true, description = "An existing directory to write the two files into.")
    Path dir;

    @Override
    public Integer call() {
        var err = spec.commandLine().getErr();
        Path privateKey = dir.resolve("evidence-private-key.json");
        Path publicKey = dir.resolve("evidence-public-key.json");
        EvidenceBundle.KeyPair pair = EvidenceBundle.newKeyPair();
        try {
            Files.writeString(Files.createFile(privateKey,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
                    pair.privateKeysetJson());
        } catch (IOException e) {
            err.println("cannot create " + privateKey.getFileName() + " in --out-dir (it must exist, be writable, and "
                    + "not hold a key already)");
            err.flush();
            return 2;
        }
        try {
            Files.writeString(Files.createFile(publicKey), pair.publicKeysetJson());
            KeysetHandle handle = EvidenceBundle.readPublicKey(pair.publicKeysetJson());
            var out = spec.commandLine().getOut();
            out.println("private key:   " + privateKey + " (keep offline; whoever holds it can read every bundle)");
            out.println("public key:    " + publicKey + " (set carapace.incident.evidence.public-key to it)");
            out.println("key id:        " + EvidenceBundle.keyId(handle));
            out.flush();
            return 0;
        } catch (IOException | EvidenceBundle.Refused e) {
            err.println("cannot create " + publicKey.getFileName() + " in --out-dir");
            err.flush();
            return 2;
        }
    }
}
