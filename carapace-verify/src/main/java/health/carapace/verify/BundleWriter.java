package health.carapace.verify;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * Writes an audit export bundle into a new directory, in the format {@link BundleVerifier}
 * reads (README.md). The exporter adds the tree heads in order, one consistency proof per pair
 * of consecutive heads, and the events of the range in order with their inclusion proofs.
 * It checks only what it cannot get wrong silently; {@link BundleVerifier} is the judge.
 */
public final class BundleWriter implements Closeable {

    private final BufferedWriter treeHeads;
    private final BufferedWriter consistency;
    private final BufferedWriter events;
    private final BufferedWriter proofs;

    private BundleWriter(BufferedWriter treeHeads, BufferedWriter consistency, BufferedWriter events,
            BufferedWriter proofs) {
        this.treeHeads = treeHeads;
        this.consistency = consistency;
        this.events = events;
        this.proofs = proofs;
    }

    /**
     * Starts a bundle in {@code directory}, which must not exist or be empty.
     *
     * @param publicKey the key that signed the tree heads, written to {@code public-key.pem}
     * @param firstLeafIndex the first event of the exported range
     * @param endLeafIndex one past the last event of the exported range
     */
    public static BundleWriter create(Path directory, TreeHeadVerifier publicKey, long firstLeafIndex,
            long endLeafIndex) throws IOException {
        Objects.requireNonNull(publicKey, "publicKey");
        if (firstLeafIndex < 0 || endLeafIndex < firstLeafIndex) {
            throw new IllegalArgumentException("not a range of leaves: " + firstLeafIndex + " to " + endLeafIndex);
        }
        Files.createDirectories(directory);
        try (var existing = Files.list(directory)) {
            if (existing.findAny().isPresent()) {
                throw new IOException("not empty: " + directory);
            }
        }
        Files.writeString(directory.resolve(BundleFormat.MANIFEST),
                BundleFormat.manifestJson(firstLeafIndex, endLeafIndex) + "\n", StandardOpenOption.CREATE_NEW);
        Files.writeString(directory.resolve(BundleFormat.PUBLIC_KEY), publicKey.toPem(), StandardOpenOption.CREATE_NEW);
        BufferedWriter treeHeads = create(directory, BundleFormat.TREE_HEADS);
        BufferedWriter consistency = null;
        BufferedWriter events = null;
        try {
            consistency = create(directory, BundleFormat.CONSISTENCY);
            events = create(directory, BundleFormat.EVENTS);
            return new BundleWriter(treeHeads, consistency, events, create(directory, BundleFormat.PROOFS));
        } catch (IOException | RuntimeException e) {
            for (BufferedWriter opened : new BufferedWriter[] {treeHeads, consistency, events}) {
                if (opened != null) {
                    try {
                        opened.close();
                    } catch (IOException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
            }
            throw e;
        }
    }

    /** Adds the next signed tree head (in order of size). */
    public void addTreeHead(SignedTreeHead head) throws IOException {
        writeLine(treeHeads, BundleFormat.treeHeadLine(head));
    }

    /** Adds the consistency proof between the next two consecutive tree heads. */
    public void addConsistencyProof(ConsistencyProof proof) throws IOException {
        writeLine(consistency, BundleFormat.consistencyLine(proof));
    }

    /**
     * Adds the next event of the range.
     *
     * @param leafIndex the event's position in the log
     * @param leaf the exact bytes that were hashed into the log, not a re-serialisation
     * @param proof its inclusion in one of the bundle's tree heads
     */
    public void addEvent(long leafIndex, byte[] leaf, InclusionProof proof) throws IOException {
        if (proof.leafIndex() != leafIndex) {
            throw new IllegalArgumentException("the proof is for leaf " + proof.leafIndex() + ", not " + leafIndex);
        }
        writeLine(events, BundleFormat.eventLine(leafIndex, leaf));
        writeLine(proofs, BundleFormat.proofLine(proof));
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        for (BufferedWriter writer : new BufferedWriter[] {treeHeads, consistency, events, proofs}) {
            try {
                writer.close();
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static BufferedWriter create(Path directory, String name) throws IOException {
        return Files.newBufferedWriter(directory.resolve(name), StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
    }

    private static void writeLine(BufferedWriter writer, String line) throws IOException {
        writer.write(line);
        writer.write('\n');
    }
}
