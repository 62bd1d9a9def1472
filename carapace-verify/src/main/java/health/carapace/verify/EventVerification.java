package health.carapace.verify;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The events of a bundle and their inclusion proofs: every event of the manifest's range, once
 * and in order, each included in a signed tree head; and, when the range starts at leaf 0, the
 * heads' roots rebuilt from the events themselves.
 *
 * <p>Parsing a proof line and verifying the proof is most of the verifier's work, and each line
 * stands alone, so batches of lines go to one worker per processor. The checks that depend on
 * order (contiguous indices, the rebuilt roots) and the reporting run on the calling thread over
 * the batches in file order, so the failure reported is the first one in the files, as if the
 * lines had been checked one by one.
 */
final class EventVerification {

    private static final int BATCH = 1024;

    private final BundleFormat.Manifest manifest;
    private final List<SignedTreeHead> heads;
    /** Equal sizes have equal roots: the consistency checks, done before, make sure of it. */
    private final Map<Long, MerkleHash> rootBySize = new HashMap<>();
    private final MerkleAccumulator rebuilt;
    private int nextHead;
    private int rootsRebuilt;
    private long expected;

    private EventVerification(BundleFormat.Manifest manifest, List<SignedTreeHead> heads) {
        this.manifest = manifest;
        this.heads = heads;
        for (SignedTreeHead head : heads) {
            rootBySize.put(head.head().treeSize(), head.head().rootHash());
        }
        this.rebuilt = manifest.firstLeafIndex() == 0 ? new MerkleAccumulator() : null;
        while (nextHead < heads.size() && heads.get(nextHead).head().treeSize() == 0) {
            nextHead++; // an empty head's root was checked with the heads
        }
        this.expected = manifest.firstLeafIndex();
    }

    /** @return how many heads' roots were rebuilt from the events */
    static int check(BundleFiles files, BundleFormat.Manifest manifest, List<SignedTreeHead> heads)
            throws IOException, BundleVerificationException {
        long largest = heads.get(heads.size() - 1).head().treeSize();
        if (manifest.endLeafIndex() > largest) {
            throw new BundleVerificationException(BundleFormat.MANIFEST, 0, "the range ends at leaf "
                    + (manifest.endLeafIndex() - 1) + ", but the latest signed tree head covers only " + largest
                    + " leaves");
        }
        return new EventVerification(manifest, heads).run(files);
    }

    private int run(BundleFiles files) throws IOException, BundleVerificationException {
        int threads = Runtime.getRuntime().availableProcessors();
        ExecutorService workers = Executors.newFixedThreadPool(threads, new WorkerThreads());
        try (JsonLines events = new JsonLines(files, BundleFormat.EVENTS);
                JsonLines proofs = new JsonLines(files, BundleFormat.PROOFS)) {
            Deque<Future<Line[]>> inFlight = new ArrayDeque<>();
            boolean allRead = false;
            while (!allRead || !inFlight.isEmpty()) {
                if (!allRead && inFlight.size() < 2 * threads) {
                    Line[] batch = read(events, proofs);
                    allRead = batch.length < BATCH || batch[batch.length - 1].endsReading();
                    inFlight.add(workers.submit(() -> checkAlone(batch)));
                } else {
                    for (Line line : await(inFlight.remove())) {
                        checkInOrder(line);
                    }
                }
            }
            if (expected != manifest.endLeafIndex()) {
                throw new BundleVerificationException(BundleFormat.EVENTS, events.number(),
                        "the events end before the range of the manifest does: event"
                                + range(expected, manifest.endLeafIndex() - 1) + " missing");
            }
            if (proofs.next() != null) {
                throw proofs.failure("more proofs than events");
            }
        } finally {
            workers.shutdownNow();
        }
        return rootsRebuilt;
    }

    /**
     * Up to {@link #BATCH} event lines and the proof lines beside them. A read failure ends the
     * batch and the reading, and is kept to be reported in its turn.
     */
    private static Line[] read(JsonLines events, JsonLines proofs) throws IOException {
        Line[] batch = new Line[BATCH];
        int count = 0;
        while (count < BATCH) {
            Line line = new Line();
            try {
                line.event = events.next();
            } catch (BundleVerificationException e) {
                line.readFailure = e;
            }
            line.eventLine = events.number();
            if (line.event == null && line.readFailure == null) {
                break; // end of events.jsonl
            }
            if (line.readFailure == null) {
                try {
                    line.proof = proofs.next();
                } catch (BundleVerificationException e) {
                    line.proofReadFailure = e;
                }
                line.proofLine = proofs.number();
            }
            batch[count++] = line;
            if (line.endsReading()) {
                break;
            }
        }
        return count == BATCH ? batch : Arrays.copyOf(batch, count);
    }

    /** The checks of one line that need no other line; run by the workers. */
    private Line[] checkAlone(Line[] batch) {
        for (Line line : batch) {
            if (line.readFailure != null) {
                return batch;
            }
            try {
                BundleFormat.Event event = BundleFormat.parseEvent(line.eventLine, line.event);
                line.leafIndex = event.leafIndex();
                line.leafHash = MerkleHash.ofLeaf(event.leaf());
            } catch (BundleVerificationException e) {
                line.eventFailure = e;
                continue;
            }
            if (line.proof != null) {
                try {
                    checkProof(line);
                } catch (BundleVerificationException e) {
                    line.proofFailure = e;
                }
            }
        }
        return batch;
    }

    private void checkProof(Line line) throws BundleVerificationException {
        long index = line.leafIndex;
        BundleFormat.EventProof proof = BundleFormat.parseProof(line.proofLine, line.proof);
        if (proof.leafIndex() != index) {
            throw new BundleVerificationException(BundleFormat.PROOFS, line.proofLine, "proves leaf "
                    + proof.leafIndex() + ", but events.jsonl line " + line.eventLine + " holds leaf " + index);
        }
        MerkleHash root = rootBySize.get(proof.treeSize());
        if (root == null) {
            throw new BundleVerificationException(BundleFormat.PROOFS, line.proofLine,
                    "tree size " + proof.treeSize() + " is not the size of a signed tree head");
        }
        if (index >= proof.treeSize()) {
            throw new BundleVerificationException(BundleFormat.PROOFS, line.proofLine,
                    "leaf " + index + " is not in a tree of size " + proof.treeSize());
        }
        try {
            InclusionProof.of(index, proof.treeSize(), proof.auditPath()).verify(line.leafHash, root);
        } catch (VerificationException e) {
            throw new BundleVerificationException(BundleFormat.EVENTS, line.eventLine, "leaf " + index
                    + " is not the leaf that the signed tree head of size " + proof.treeSize()
                    + " holds at that index (or its proof, proofs.jsonl line " + line.proofLine + ", is damaged): "
                    + e.getMessage(), e);
        }
    }

    /** The checks that follow the order of the lines; on the calling thread, line after line. */
    private void checkInOrder(Line line) throws BundleVerificationException {
        if (line.readFailure != null) {
            throw line.readFailure;
        }
        if (line.eventFailure != null) {
            throw line.eventFailure;
        }
        long index = line.leafIndex;
        if (index != expected) {
            throw new BundleVerificationException(BundleFormat.EVENTS, line.eventLine, "leaf index " + index
                    + " where " + expected + " was expected: " + (index > expected
                            ? "event" + range(expected, index - 1) + " missing or out of order"
                            : "events out of order or repeated"));
        }
        if (index >= manifest.endLeafIndex()) {
            throw new BundleVerificationException(BundleFormat.EVENTS, line.eventLine, "leaf index " + index
                    + " is beyond the range of the manifest, which ends at " + (manifest.endLeafIndex() - 1));
        }
        if (line.proofReadFailure != null) {
            throw line.proofReadFailure;
        }
        if (line.proof == null) {
            throw new BundleVerificationException(BundleFormat.PROOFS, line.proofLine, "ends before the proof for leaf "
                    + index + " (events.jsonl line " + line.eventLine + ")");
        }
        if (line.proofFailure != null) {
            throw line.proofFailure;
        }
        if (rebuilt != null) {
            rebuilt.appendLeafHash(line.leafHash);
            while (nextHead < heads.size() && heads.get(nextHead).head().treeSize() == rebuilt.size()) {
                TreeHead head = heads.get(nextHead).head();
                MerkleHash rebuiltRoot = rebuilt.root();
                if (!rebuiltRoot.equals(head.rootHash())) {
                    throw new BundleVerificationException(BundleFormat.EVENTS, line.eventLine, "the events from leaf 0 to "
                            + index + " rebuild root " + rebuiltRoot + ", but the signed tree head of size "
                            + head.treeSize() + " (tree-heads.jsonl line " + (nextHead + 1) + ") has root "
                            + head.rootHash());
                }
                rootsRebuilt++;
                nextHead++;
            }
        }
        expected++;
    }

    private static Line[] await(Future<Line[]> batch) throws IOException {
        try {
            return batch.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private static String range(long from, long to) {
        return from == to ? " " + from + " is" : "s " + from + " to " + to + " are";
    }

    /** One line of events.jsonl and the line of proofs.jsonl beside it, and what became of them. */
    private static final class Line {
        // Set by the reader.
        long eventLine;
        byte[] event;
        BundleVerificationException readFailure;
        long proofLine;
        /** Null with no proofReadFailure: proofs.jsonl ended before events.jsonl. */
        byte[] proof;
        BundleVerificationException proofReadFailure;
        // Set by a worker.
        long leafIndex;
        MerkleHash leafHash;
        BundleVerificationException eventFailure;
        BundleVerificationException proofFailure;

        /** Whether nothing after this line can matter: the checks will stop here at the latest. */
        boolean endsReading() {
            return readFailure != null || proofReadFailure != null || proof == null;
        }
    }

    private static final class WorkerThreads implements ThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable task) {
            Thread thread = new Thread(task, "carapace-verify-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        }
    }
}
