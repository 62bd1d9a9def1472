package health.carapace.cli;

import com.google.crypto.tink.KeysetHandle;
import health.carapace.incident.EvidenceBundle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Opens an evidence bundle offline (no server, no database): the compliance officer's command.
 * Exit 0 when every check holds, 1 when the bundle cannot be opened with this key or fails a check
 * (each problem printed), 2 for unusable options.
 */
@Command(name = "evidence-open", mixinStandardHelpOptions = true,
        description = {"Decrypts an evidence bundle with the evidence private key and verifies it: the manifest",
            "signature, every file's SHA-256, and the audit export (carapace-verify). Reports each problem found."})
final class OpenEvidenceCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", description = "The bundle file.")
    Path bundle;

    @CommandLine.Option(names = "--private-key", required = true, description = "The evidence private key (Tink JSON keyset).")
    Path privateKey;

    @CommandLine.Option(names = "--out", required = true, description = "A new (or empty) directory to decrypt into.")
    Path out;

    @CommandLine.Option(names = "--signing-key",
            description = "The server's manifest signing key (PEM) to check the signature against, instead of the "
                    + "key inside the bundle.")
    Path signingKey;

    @CommandLine.Option(names = "--audit-public-key",
            description = "The published audit public key (PEM), instead of the one inside the audit export.")
    Path auditKey;

    @Override
    public Integer call() {
        var err = spec.commandLine().getErr();
        var stdout = spec.commandLine().getOut();
        KeysetHandle key;
        String pinnedSigning;
        String pinnedAudit;
        try {
            key = EvidenceBundle.readPrivateKey(Files.readString(privateKey, StandardCharsets.UTF_8));
            pinnedSigning = signingKey == null ? null : Files.readString(signingKey, StandardCharsets.US_ASCII);
            pinnedAudit = auditKey == null ? null : Files.readString(auditKey, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            err.println("a key file cannot be read (" + e.getClass().getSimpleName() + ")");
            err.flush();
            return 2;
        } catch (EvidenceBundle.Refused refused) {
            err.println(refused.getMessage());
            err.flush();
            return 2;
        }
        try {
            EvidenceBundle.Opened opened = EvidenceBundle.open(bundle, key, out, pinnedSigning, pinnedAudit);
            EvidenceBundle.Manifest m = opened.manifest();
            stdout.println("VERIFIED: " + m.files().size() + " files match the signed manifest, decrypted into " + out);
            stdout.println("incident:      " + m.incident());
            stdout.println("made:          " + m.madeAt() + " by " + m.madeBy() + " (bundle " + m.bundle() + ")");
            stdout.println("window:        " + m.windowFrom() + " to " + m.windowTo());
            stdout.println("signed by:     " + opened.signingKeyId() + (opened.signingKeyPinned() ? " (the given key)"
                    : " (the key inside the bundle: compare with the custody record, or pass --signing-key)"));
            if (opened.audit() == null) {
                stdout.println("audit export:  none in this bundle");
            } else {
                stdout.println("audit export:  events " + opened.audit().firstLeaf() + " to "
                        + (opened.audit().endLeaf() - 1) + " proved against signed tree heads up to size "
                        + opened.audit().treeSize() + " (signed " + opened.audit().signedAt() + ") by key "
                        + opened.audit().keyId()
                        + (opened.auditKeyPinned() ? " (the given key)"
                                : " (the export's own key: compare with the published one, or pass --audit-public-key)"));
            }
            m.notes().forEach(note -> stdout.println("note:          " + note));
            stdout.flush();
            return 0;
        } catch (EvidenceBundle.Refused refused) {
            err.println("NOT VERIFIED:");
            refused.problems().forEach(problem -> err.println("  " + problem));
            err.flush();
            return 1;
        } catch (IOException e) {
            err.println("the bundle or the output directory cannot be read or written (" + e.getClass().getSimpleName()
                    + ")");
            err.flush();
            return 2;
        }
    }
}
