package health.carapace.cli;

import health.carapace.incident.Evidence;
import health.carapace.incident.Incidents;
import health.carapace.incident.ServingNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "evidence", mixinStandardHelpOptions = true,
        description = {"Writes an evidence bundle for an incident, encrypted to the evidence public key: the audit",
            "export of its window with inclusion proofs, the incident and its timeline, the log lines of the window,",
            "the configuration in force (secrets redacted), a thread dump and, with --with-heap, a heap dump. The",
            "signed manifest is written beside it (FILE.manifest.json, FILE.manifest.sig); the chain of custody is",
            "recorded and audited. The dumps are of the serving node on this host (found by its pid file,",
            "carapace.incident.evidence.pid-file; start-dev: DATA_DIR/carapace.pid), taken with the JDK's jcmd",
            "as the same operating-system user; run it on the node under investigation."})
final class EvidenceCommand extends InstallationCommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(index = "0", description = "The incident id.")
    String id;

    @CommandLine.Option(names = "--with-heap", description = "Adds a heap dump (PHI in clear, inside the encryption).")
    boolean withHeap;

    @CommandLine.Option(names = "--out", required = true, description = "The bundle file to create (must not exist).")
    Path out;

    @CommandLine.Option(names = "--pid", description = "The serving node's process id, when its pid file is not "
            + "configured (default: read from the pid file).")
    String pid;

    @CommandLine.Option(names = "--without-serving-node", description = "No server is running on this host: the "
            + "dumps are of this command's own process (they show nothing of a serving node; the manifest says so).")
    boolean withoutServingNode;

    @Override
    public Integer call() throws Exception {
        var err = spec.commandLine().getErr();
        UUID incident = IncidentText.id(id);
        if (incident == null) {
            err.println("no incident with that id");
            return 1;
        }
        Long processId = null;
        if (pid != null) {
            try {
                processId = Long.parseLong(pid);
            } catch (NumberFormatException e) {
                // picocli would quote the value back; a mistyped argument may be anything
                err.println("--pid must be a process id (a number)");
                return 2;
            }
        }
        Long servingPid = processId;
        Path manifest = beside(".manifest.json");
        Path signature = beside(".manifest.sig");
        if (Files.exists(out) || Files.exists(manifest) || Files.exists(signature)) {
            err.println("--out names a file that exists (or its manifest does): choose a new file name");
            return 2;
        }
        OutputStream file;
        try {
            file = Files.newOutputStream(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException | SecurityException e) {
            err.println("--out cannot be written: its directory must exist and be writable");
            return 2;
        }
        Evidence.Made made;
        try (file) {
            made = installation.run(ctx -> {
                Evidence evidence = ctx.getBean(Evidence.class);
                if (withoutServingNode) {
                    return evidence.write(incident, withHeap, file, operator());
                }
                ServingNode node = servingNode(servingPid,
                        ctx.getEnvironment().getProperty(ServingNode.PID_FILE_PROPERTY));
                return node.isThisProcess() ? evidence.write(incident, withHeap, file, operator())
                        : evidence.write(incident, withHeap, file, operator(), node);
            });
        } catch (NoServingNode missing) {
            Files.deleteIfExists(out);
            err.println(missing.getMessage() + "; or name it with --pid, or give --without-serving-node");
            return 2;
        } catch (Incidents.Refused refused) {
            Files.deleteIfExists(out);
            return IncidentText.refused(refused, err);
        } catch (Exception | Error e) {
            Files.deleteIfExists(out);
            throw e;
        }
        Files.write(manifest, made.manifest(), StandardOpenOption.CREATE_NEW);
        Files.write(signature, made.manifestSignature(), StandardOpenOption.CREATE_NEW);
        Evidence.Custody custody = made.custody();
        var stdout = spec.commandLine().getOut();
        stdout.println("bundle:        " + out + " (" + custody.bundleBytes() + " bytes"
                + (custody.heapDump() ? ", with a heap dump" : "") + ")");
        stdout.println("sha-256:       " + custody.bundleSha256());
        stdout.println("custody:       " + custody.id() + " (made by " + custody.madeBy() + " at " + custody.madeAt() + ")");
        stdout.println("manifest:      " + manifest + " and " + signature.getFileName() + " (sha-256 "
                + custody.manifestSha256() + ")");
        stdout.println("signed by:     " + custody.signingKeyId());
        stdout.println("encrypted to:  " + custody.recipientKeyId());
        stdout.println("open with:     ./carapace incident evidence-open " + out + " --private-key KEY --out DIR");
        stdout.flush();
        return 0;
    }

    /** Carries {@link ServingNode.NotFound} out of the application context's task. */
    private static final class NoServingNode extends RuntimeException
            implements health.carapace.platform.logging.SafeMessage {
        NoServingNode(ServingNode.NotFound cause) {
            super(cause.getMessage(), cause);
        }
    }

    private static ServingNode servingNode(Long pid, String pidFile) {
        try {
            if (pid != null) {
                return ServingNode.ofPid(pid);
            }
            if (pidFile == null || pidFile.isBlank()) {
                throw new NoServingNode(new ServingNode.NotFound(
                        "no serving node on this host is known: carapace.incident.evidence.pid-file is not set"));
            }
            return ServingNode.fromPidFile(Path.of(pidFile));
        } catch (ServingNode.NotFound notFound) {
            throw new NoServingNode(notFound);
        }
    }

    private Path beside(String suffix) {
        return out.resolveSibling(out.getFileName().toString() + suffix);
    }

}
