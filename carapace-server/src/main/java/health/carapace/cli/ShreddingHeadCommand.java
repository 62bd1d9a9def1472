package health.carapace.cli;

import health.carapace.backup.Backups;
import health.carapace.backup.ShreddingLedger;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "head", mixinStandardHelpOptions = true,
        description = {"Prints each shredding ledger's latest head (LEDGER:SEQ:MAC) as this installation's audit",
            "trail recorded it: keep it off-host (with the backup records, a ticket, a vault) and give it to",
            "restore as --ledger-head, so that a ledger cut after the backup is refused (ADR 0049). Reads only",
            "references (no PHI). Exit 0, also when no head is recorded yet (then it says so)."})
final class ShreddingHeadCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<ShreddingLedger.Head> heads = installation.run(ctx -> ctx.getBean(Backups.class).latestHeads());
        var out = spec.commandLine().getOut();
        if (heads.isEmpty()) {
            out.println("no shredding ledger head recorded yet (no shredding approved since ledgers were kept): a"
                    + " restore needs --no-ledger-head, or a head recorded later");
        }
        for (ShreddingLedger.Head head : heads) {
            out.println(head);
        }
        out.flush();
        return 0;
    }
}
