package health.carapace.audit.internal;

import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Group commit: request threads hand their events to one writer thread, which inserts everything
 * waiting in a single transaction and commits once, then releases every waiting request. With
 * {@code synchronous_commit=on} each commit is one WAL flush, shared by the whole batch, so
 * throughput scales with concurrency while each response still waits for its own event.
 *
 * <p>Events are encoded on the request threads, so the writer's cycle is the insert and the
 * commit, not also the JSON of every event in the batch (a single thread). One writer, not two
 * overlapping ones: measured at 100,000 patients, a second writer's smaller batches cost more
 * CPU per read in PostgreSQL and the server (3,275 vs 3,695 reads/s, docs/BENCHMARKS.md).
 */
final class GroupCommitAppender implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GroupCommitAppender.class);

    private record Pending(List<AuditLog.Encoded> events, CompletableFuture<Void> durable) {}

    private final AuditLog auditLog;
    private final TransactionTemplate transactions;
    private final BlockingQueue<Pending> queue;
    private final int maxBatch;
    private final Duration timeout;
    private final Thread writer;
    private volatile boolean running = true;

    GroupCommitAppender(AuditLog auditLog, TransactionTemplate transactions, int maxBatch, Duration timeout) {
        this.auditLog = auditLog;
        this.transactions = transactions;
        this.maxBatch = maxBatch;
        this.timeout = timeout;
        this.queue = new ArrayBlockingQueue<>(maxBatch * 8);
        this.writer = new Thread(this::writeLoop, "audit-group-commit");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /** Blocks until the events are committed; throws if they cannot be. */
    void append(List<AuditEvent> events) {
        Pending pending = new Pending(AuditLog.encode(events), new CompletableFuture<>());
        try {
            if (!running || !queue.offer(pending, timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AuditUnavailableException("The audit trail is not accepting events", null);
            }
            pending.durable().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AuditUnavailableException("The audit trail could not commit an event", e.getCause());
        } catch (TimeoutException e) {
            throw new AuditUnavailableException("The audit trail did not commit an event in time", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuditUnavailableException("Interrupted while waiting for the audit trail", e);
        }
    }

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>();
        while (running) {
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                int events = first.events().size();
                while (events < maxBatch) {
                    Pending next = queue.poll();
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                    events += next.events().size();
                }
                List<AuditLog.Encoded> all = new ArrayList<>(events);
                batch.forEach(p -> all.addAll(p.events()));
                try {
                    transactions.executeWithoutResult(status -> auditLog.insertEncoded(all));
                    batch.forEach(p -> p.durable().complete(null));
                } catch (RuntimeException e) {
                    log.error("An audit group commit failed; its requests are refused", e);
                    batch.forEach(p -> p.durable().completeExceptionally(e));
                }
                batch.clear();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        running = false;
        writer.interrupt();
        Pending left;
        while ((left = queue.poll()) != null) {
            left.durable().completeExceptionally(new IllegalStateException("audit trail stopped"));
        }
    }
}
