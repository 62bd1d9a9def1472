package health.carapace.cli;

import com.google.crypto.tink.KeysetHandle;
import health.carapace.backup.BackupArchive;
import health.carapace.backup.BackupLoader;
import health.carapace.backup.BackupRefused;
import health.carapace.backup.Backups;
import health.carapace.backup.DatabaseTarget;
import health.carapace.backup.Progress;
import health.carapace.backup.ShreddingLedger;
import health.carapace.platform.dev.DevEnvironment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.core.env.PropertyResolver;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Restores a backup onto a fresh installation (empty databases; in start-dev an empty data",
            "directory holding only the keys directory of the backed-up installation, or the same HSM token).",
            "Checks the manifest's signature and every file's size and SHA-256 before anything is loaded, loads",
            "the keyring and the PHI database each in one transaction, then applies again every crypto-shredding",
            "of the shredding ledger and verifies the audit trail. Progress on stderr. Exit 0 restored, 1 the",
            "backup is refused (tampered, truncated, other keys) or the restored audit trail does not verify,",
            "2 unusable options, keys or settings, 3 the installation is not empty, 4 a database or tool failed,",
            "5 the installation is in use (a node is connected to it, or another restore holds it)."})
final class RestoreCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--from", required = true, description = "The backup directory.")
    Path from;

    @CommandLine.Option(names = "--private-key", required = true, description = "The backup private key (Tink JSON keyset).")
    Path privateKey;

    @CommandLine.Option(names = "--signing-key", required = true,
            description = {"The installation's backup signing key (./carapace backup signing-key), kept apart from the",
                "backups: a file inside --from is refused, and with carapace.backup.signing-key-id set only that key."})
    Path signingKey;

    @CommandLine.Option(names = "--signing-key-id",
            description = {"The id (64 hex digits) of the installation's backup signing key, as ./carapace backup",
                "signing-key printed it, kept apart from the backups. Required unless carapace.backup.signing-key-id",
                "is set (then, if given too, it must be the same)."})
    String signingKeyId = "";

    @CommandLine.Option(names = "--shredding-ledger",
            description = "A shredding ledger (carapace.backup.shredding-ledger) of the backed-up installation; "
                    + "repeat for each node's.")
    List<Path> ledgers = new ArrayList<>();

    @CommandLine.Option(names = "--ledger-head",
            description = {"LEDGER:SEQ:MAC, a shredding ledger's last head as recorded off-host (./carapace keys",
                "shredding head, run on the old installation; or the resource of the last /backup/shredding-ledger/",
                "event in the audit trail's Kafka topic or SIEM); repeat for each ledger. The ledgers given must",
                "reach it: a ledger cut after the backup is refused. Required for each ledger (every one given, and",
                "every one the backup's audit trail recorded) unless --no-ledger-head is given; exit 2 if one lacks it."})
    List<String> ledgerHeads = new ArrayList<>();

    @CommandLine.Option(names = "--no-ledger-head",
            description = {"Restore without a head recorded off-host: lines cut from the end of a ledger after the",
                "backup was made cannot be detected, so patients shredded since may become readable again. Printed",
                "as a warning and recorded in the restored audit trail (ADR 0049)."})
    boolean noLedgerHead;

    @CommandLine.Option(names = "--without-shredding-ledger",
            description = "Restore without a ledger: patients shredded after the backup was made become readable again.")
    boolean withoutLedger;

    @Override
    public Integer call() throws Exception {
        var err = spec.commandLine().getErr();
        Progress progress = line -> {
            err.println(line);
            err.flush();
        };
        installation.settings(Map.of()); // a mistyped option is refused before anything starts
        try {
            if (ledgers.isEmpty() == !withoutLedger) {
                throw new BackupRefused(BackupRefused.UNUSABLE, "give --shredding-ledger FILE (every node's), or "
                        + "--without-shredding-ledger to restore knowing that patients shredded since the backup "
                        + "become readable again");
            }
            if (!withoutLedger && ledgerHeads.isEmpty() == !noLedgerHead) {
                // Fail closed (ADR 0049): the heads the restored audit trail recorded reach only up to the
                // backup's point, so without a head from off-host a ledger cut after it passes unnoticed.
                throw new BackupRefused(BackupRefused.UNUSABLE, ledgerHeads.isEmpty()
                        ? "give --ledger-head LEDGER:SEQ:MAC for each ledger, as recorded off-host (./carapace keys "
                                + "shredding head on the old installation, or the audit trail's off-host copy), or "
                                + "--no-ledger-head to restore knowing that a ledger cut after the backup cannot be "
                                + "detected; nothing was loaded"
                        : "--ledger-head and --no-ledger-head contradict each other; nothing was loaded");
            }
            if (withoutLedger && (noLedgerHead || !ledgerHeads.isEmpty())) {
                throw new BackupRefused(BackupRefused.UNUSABLE, "--without-shredding-ledger takes no ledger head "
                        + "(there is no ledger to check); nothing was loaded");
            }
            if (noLedgerHead) {
                progress.report("WARNING: --no-ledger-head: no ledger head recorded off-host is checked, so lines cut "
                        + "from the end of a ledger after the backup was made go unnoticed and the patients they "
                        + "shredded would be readable again; this is recorded in the restored audit trail");
            }
            List<ShreddingLedger.Head> heads = heads(ledgerHeads);
            KeysetHandle key = BackupArchive.readPrivateKey(read(privateKey, "--private-key"));
            String pinned = pinnedSigningKeyId(installation.settings(Map.of())
                    .getProperty("carapace.backup.signing-key-id", ""));
            PublicKey signedBy = BackupArchive.trustedSigningKey(signingKey, from, pinned);
            if (pinned.isBlank()) {
                // Without a pin, any key file outside --from would do, and the manifest's signature is what
                // keeps a forger's SQL (psql meta-commands) from running (s7 review finding 2).
                throw new BackupRefused(BackupRefused.UNUSABLE, "no backup signing key id is pinned: give "
                        + "--signing-key-id (the id ./carapace backup signing-key printed, kept apart from the backups) "
                        + "or set carapace.backup.signing-key-id; nothing was loaded");
            }
            // Read whole now (a missing or unreadable ledger refuses before anything is loaded); authenticated,
            // and checked complete against the restored database, once its keyring is there (finishRestore).
            List<ShreddingLedger.Ledger> ledger = ledgers.stream().map(ShreddingLedger::read).toList();
            // s9 review M-3: each ledger given needs its own off-host head (the restored trail's ledgers are
            // checked the same way once loaded, Backups#requireAHeadForEachLedger).
            List<String> headless = noLedgerHead ? List.of() : Backups.ledgerIdsWithoutAHead(ledger, heads);
            if (!headless.isEmpty()) {
                throw new BackupRefused(BackupRefused.UNUSABLE, headless.size() + " shredding ledger(s) given have no "
                        + "--ledger-head (ledger " + String.join(", ", headless) + "): give each ledger's last head as "
                        + "recorded off-host (a ledger cut after the backup shows only against its own head), or "
                        + "--no-ledger-head; nothing was loaded");
            }
            // Before any database is touched: the signature, the private key, then every file's size and hash,
            // all checked on copies in a private directory, and only those copies are loaded. That copy is the
            // control against a file swapped after it was checked (a sealed file's SQL could carry psql
            // meta-commands such as \! that --no-psqlrc and ON_ERROR_STOP do not stop; ADR 0033).
            Path copies = BackupArchive.privateDirectory();
            try {
                BackupArchive.privateCopy(from, copies, List.of(BackupArchive.MANIFEST, BackupArchive.MANIFEST_SIGNATURE));
                BackupArchive.Manifest manifest = BackupArchive.verifyManifest(copies, signedBy);
                String keyId = BackupArchive.keyId(key);
                if (!keyId.equals(manifest.recipientKeyId())) {
                    throw new BackupRefused(BackupRefused.UNUSABLE, "--private-key is not the key this backup was "
                            + "sealed to: the manifest names backup key " + manifest.recipientKeyId() + ", the file "
                            + "given holds " + keyId + "; nothing was loaded");
                }
                BackupArchive.privateCopy(from, copies, List.of(BackupArchive.KEYRING_FILE, BackupArchive.PHI_FILE));
                BackupArchive.verifyFiles(copies, manifest);
                progress.report("verified: the manifest's signature, the private key, and both files' sizes and "
                        + "SHA-256 (backup made " + manifest.madeAt() + ", " + manifest.consistency() + ")");
                return restore(copies, manifest, key, signedBy, ledger, heads, progress);
            } finally {
                BackupArchive.deletePrivateCopy(copies, progress);
            }
        } catch (BackupRefused refused) {
            err.println("NOT RESTORED: " + refused.getMessage());
            err.flush();
            return refused.exitCode();
        }
    }

    private int restore(Path copies, BackupArchive.Manifest manifest, KeysetHandle key, PublicKey signedBy,
            List<ShreddingLedger.Ledger> ledger, List<ShreddingLedger.Head> heads, Progress progress) throws Exception {
        long started = System.nanoTime();
        Backups.Restored restored;
        // start-dev: the embedded database stays up for the whole restore, so that the hold (a session) lasts
        // from before the load until the restored installation has applied the ledger.
        try (DevEnvironment dev = installation.production ? null : devEnvironment()) {
            var resolved = installation.settings(dev == null ? Map.of() : dev.properties());
            DatabaseTarget.Pair targets = DatabaseTarget.of(resolved);
            // No node may be connected, and none gets a PHI connection until the ledger is applied (RestoreGate).
            try (BackupLoader.Hold hold = BackupLoader.hold(targets, servingRoles(resolved))) {
                BackupLoader.restore(copies, manifest, key, targets, progress);
                progress.report("starting the application on the restored databases");
                try {
                    // The gate opens for this process's finishing application only, in code (no setting opens it).
                    restored = BackupLoader.whileFinishingRestore(() -> installation.run(ctx -> ctx.getBean(Backups.class)
                            .finishRestore(manifest, signedBy, withoutLedger ? null : ledger, heads,
                                    noLedgerHead, operator(), progress)));
                    // The ledger is applied: only now may nodes connect (the restore marker goes).
                    BackupLoader.finished(targets);
                } catch (Exception | Error e) {
                    progress.report("the restore did not finish: removing what it loaded");
                    BackupLoader.discard(targets);
                    throw e;
                }
            }
        }
        var stdout = spec.commandLine().getOut();
        stdout.println((restored.audit().ok() ? "RESTORED" : "RESTORED, AUDIT TRAIL DOES NOT VERIFY") + ": backup made "
                + manifest.madeAt() + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        stdout.println("shredding:     " + restored.shredding().applied() + " applied again from the ledger, "
                + restored.shredding().alreadyApplied() + " already in the backup, "
                + restored.shredding().ofAbsentPatients() + " of patients not in the backup"
                + (withoutLedger ? " (no ledger given)" : ", " + restored.shredding().unconfirmed().size()
                        + " never confirmed (applied all the same)"));
        for (ShreddingLedger.Entry entry : restored.shredding().unconfirmed()) {
            stdout.println("  never confirmed: " + entry.compartment() + " (shredding request " + entry.request()
                    + "): its node stopped before writing whether the approval committed; the patient stays shredded, "
                    + "as a restore never undoes a shredding");
        }
        if (noLedgerHead) {
            stdout.println("WARNING:       restored with --no-ledger-head: a ledger cut after the backup was not"
                    + " detectable (recorded in the audit trail)");
        }
        for (ShreddingLedger.Head head : restored.shredding().heads()) {
            stdout.println("ledger head:   " + head + " (compare with the last one the audit trail's off-host copy holds)");
        }
        stdout.println("audit verify:  " + (restored.audit().ok() ? "OK" : "TAMPERED") + ", "
                + restored.audit().eventsChecked() + " events, " + restored.audit().headsChecked() + " tree heads"
                + (restored.audit().ok() ? "" : "; first problem: " + restored.audit().firstProblem()));
        stdout.flush();
        return restored.audit().ok() ? 0 : BackupRefused.REFUSED;
    }

    static List<ShreddingLedger.Head> heads(List<String> given) {
        List<ShreddingLedger.Head> heads = new ArrayList<>();
        for (String text : given) {
            heads.add(ShreddingLedger.Head.parse(text).orElseThrow(() -> new BackupRefused(BackupRefused.UNUSABLE,
                    "--ledger-head is not LEDGER:SEQ:MAC (16 hex digits, a line number, 64 hex digits)")));
        }
        return heads;
    }

    /** The pinned signing key id: the setting's, or --signing-key-id's; both given must agree. */
    private String pinnedSigningKeyId(String configured) {
        String given = signingKeyId == null ? "" : signingKeyId.strip();
        if (!given.isEmpty() && !given.matches("[0-9a-fA-F]{64}")) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "--signing-key-id is not a key id (64 hex digits)");
        }
        if (!given.isEmpty() && !configured.isBlank() && !given.equalsIgnoreCase(configured.strip())) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "--signing-key-id is not the id carapace.backup."
                    + "signing-key-id pins; nothing was loaded");
        }
        return given.isEmpty() ? configured.strip() : given;
    }

    /** start-dev: the KEK is the dev keystore of the backed-up installation, moved here by the operator. */
    private DevEnvironment devEnvironment() throws IOException {
        if (!Files.isRegularFile(installation.dataDir.resolve("keys").resolve("kek.p12"))) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "the data directory has no dev keystore: copy the keys "
                    + "directory of the backed-up installation into " + installation.dataDir.resolve("keys")
                    + " first (the backup holds no KEK)");
        }
        return DevEnvironment.open(installation.dataDir);
    }

    /** The roles nodes connect as (their pools): a session of one of them on a target means a node uses it. */
    private static Set<String> servingRoles(PropertyResolver settings) {
        Set<String> roles = new java.util.HashSet<>();
        for (String key : List.of("carapace.db.username", "carapace.keyring.username")) {
            String role = settings.getProperty(key, "");
            if (!role.isBlank()) {
                roles.add(role);
            }
        }
        return roles;
    }

    private static String read(Path file, String option) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.UNUSABLE, option + " cannot be read");
        }
    }
}
