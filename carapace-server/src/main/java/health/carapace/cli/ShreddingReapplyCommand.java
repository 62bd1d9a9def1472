package health.carapace.cli;

import health.carapace.backup.BackupRefused;
import health.carapace.backup.Backups;
import health.carapace.backup.ShreddingLedger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "reapply", mixinStandardHelpOptions = true,
        description = {"Applies every crypto-shredding of the shredding ledger(s) again where this installation does",
            "not hold it: after a point-in-time recovery to a time before a shredding (restore does it by itself).",
            "Run it before the server serves. Idempotent. Exit 0 done, 1 a ledger does not authenticate, does not",
            "list every shredding the database holds or does not reach a recorded head, 2 a ledger cannot be read."})
final class ShreddingReapplyCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--shredding-ledger", required = true,
            description = "A shredding ledger (carapace.backup.shredding-ledger); repeat for each node's.")
    List<Path> ledgers = new ArrayList<>();

    @CommandLine.Option(names = "--ledger-head",
            description = "LEDGER:SEQ:MAC, a ledger head from the audit trail's off-host copy the ledgers must reach; repeatable.")
    List<String> ledgerHeads = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        var err = spec.commandLine().getErr();
        try {
            List<ShreddingLedger.Head> heads = RestoreCommand.heads(ledgerHeads);
            List<ShreddingLedger.Ledger> entries = ledgers.stream().map(ShreddingLedger::read).toList();
            Backups.Reapplied done = installation.run(ctx -> ctx.getBean(Backups.class).applyLedger(entries, heads, operator(),
                    line -> {
                        err.println(line);
                        err.flush();
                    }));
            var out = spec.commandLine().getOut();
            out.println("shredding:     " + done.applied() + " applied again, " + done.alreadyApplied() + " already applied, "
                    + done.ofAbsentPatients() + " of patients this installation does not hold, "
                    + done.unconfirmed().size() + " never confirmed (applied all the same)");
            out.flush();
            return 0;
        } catch (BackupRefused refused) {
            err.println("NOT APPLIED: " + refused.getMessage());
            err.flush();
            return refused.exitCode();
        }
    }
}
