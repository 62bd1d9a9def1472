package health.carapace.bench;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Closed-loop load: a fixed number of virtual clients, each sending its next request as soon as
 * the previous one is answered, all on the HTTP client's asynchronous API (no thread per client).
 *
 * <p>A run has a warm-up phase and a measured phase back to back, with no pause between them,
 * so the server is at steady state when measuring starts. A request belongs to the phase in
 * which it was sent: throughput is the measured requests over the measured window, and no
 * request is counted twice or lost at the boundary. When the window closes, clients stop
 * sending and the driver waits for the requests still in flight.
 *
 * <p>Latency is from just before sending to the complete response, as the client sees it. In a
 * closed loop a slow response delays the next request, so a server stall is visible in the
 * throughput and the maximum rather than as many slow requests (coordinated omission).
 */
final class LoadDriver {

    /** The stats of every operation of one workload during one phase. */
    static final class Phase {
        private final Map<Operation, OperationStats> byOperation = new EnumMap<>(Operation.class);

        Phase(Workload workload) {
            for (Operation operation : workload.operations()) {
                byOperation.put(operation, new OperationStats(operation));
            }
        }

        OperationStats of(Operation operation) {
            return byOperation.get(operation);
        }

        List<OperationStats.Snapshot> snapshots() {
            List<OperationStats.Snapshot> snapshots = new ArrayList<>();
            byOperation.values().forEach(stats -> snapshots.add(stats.snapshot()));
            return snapshots;
        }
    }

    /** Called when the measured window opens and closes, e.g. to read CPU counters. */
    interface WindowListener {
        void opened();

        void closed();
    }

    /** The outcome of one run: both phases and the measured window's exact length. */
    record Run(Phase warmup, Phase measured, Duration window, long requestsStillInFlight) {}

    private static final Duration PAUSE_AFTER_REQUEST_BUILD_FAILURE = Duration.ofMillis(100);

    private final HttpClient client;
    private final Executor executor;
    private final FhirRequests requests;

    /** @param executor the HTTP client's own executor: completions are handled where they arrive */
    LoadDriver(HttpClient client, Executor executor, FhirRequests requests) {
        this.client = client;
        this.executor = executor;
        this.requests = requests;
    }

    Run run(Workload workload, int concurrency, Duration warmup, Duration measure, long seed, Duration drainTimeout,
            WindowListener listener) throws InterruptedException {
        Phase warmupPhase = new Phase(workload);
        Phase measuredPhase = new Phase(workload);
        CountDownLatch stopped = new CountDownLatch(concurrency);
        PhaseSwitch phases = new PhaseSwitch();
        List<VirtualClient> clients = new ArrayList<>(concurrency);
        for (int i = 0; i < concurrency; i++) {
            // Each client its own generator, derived from the seed: the same seed replays the same choices.
            SplittableRandom random = new SplittableRandom(SyntheticData.mix(seed + 31L * i));
            clients.add(new VirtualClient(workload, random, phases, stopped));
        }
        phases.current = warmup.isZero() ? measuredPhase : warmupPhase;
        if (warmup.isZero()) {
            listener.opened();
        }
        long windowStart = System.nanoTime();
        clients.forEach(VirtualClient::sendNext);
        if (!warmup.isZero()) {
            sleepUntil(windowStart + warmup.toNanos());
            // Counters first, then the switch: the sampler's window and the request window coincide.
            listener.opened();
            windowStart = System.nanoTime();
            phases.current = measuredPhase;
        }
        sleepUntil(windowStart + measure.toNanos());
        phases.current = null;
        long windowEnd = System.nanoTime();
        listener.closed();
        boolean drained = stopped.await(drainTimeout.toMillis(), TimeUnit.MILLISECONDS);
        return new Run(warmupPhase, measuredPhase, Duration.ofNanos(windowEnd - windowStart),
                drained ? 0 : stopped.getCount());
    }

    /** One interval of a run cut into intervals (a soak's minute): its stats and its exact length. */
    record Interval(int index, Phase phase, Duration length) {}

    /** Told at each boundary of a run in intervals, on the driver's thread, while the clients keep going. */
    interface IntervalListener {
        /** Interval {@code index} starts now (after the warm-up for index 0). */
        void opened(int index);

        /** Interval {@code interval.index()} has just ended; the next one, if any, is already counting. */
        void closed(Interval interval);
    }

    /**
     * A closed-loop run whose measured time is {@code count} back-to-back intervals of
     * {@code interval} each, for a soak: the clients never pause at a boundary (a request belongs
     * to the interval in which it was sent), so the intervals add up to one uninterrupted run.
     *
     * @return the warm-up's stats (empty without a warm-up) and the clients still waiting when the drain timed out
     */
    IntervalRun runInIntervals(Workload workload, int concurrency, Duration warmup, Duration interval, int count, long seed,
            Duration drainTimeout, IntervalListener listener) throws InterruptedException {
        if (count < 1 || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("at least one interval of a positive length");
        }
        CountDownLatch stopped = new CountDownLatch(concurrency);
        PhaseSwitch phases = new PhaseSwitch();
        List<VirtualClient> clients = new ArrayList<>(concurrency);
        for (int i = 0; i < concurrency; i++) {
            SplittableRandom random = new SplittableRandom(SyntheticData.mix(seed + 31L * i));
            clients.add(new VirtualClient(workload, random, phases, stopped));
        }
        Phase current = new Phase(workload);
        Phase warmupPhase = warmup.isZero() ? new Phase(workload) : current;
        long start = System.nanoTime();
        if (warmup.isZero()) {
            listener.opened(0);
            start = System.nanoTime();
        }
        phases.current = current;
        clients.forEach(VirtualClient::sendNext);
        if (!warmup.isZero()) {
            sleepUntil(start + warmup.toNanos());
            listener.opened(0);
            current = new Phase(workload);
            start = System.nanoTime();
            phases.current = current;
        }
        for (int index = 0; index < count; index++) {
            sleepUntil(start + interval.toNanos());
            Phase ended = current;
            long end = System.nanoTime();
            if (index + 1 < count) {
                listener.opened(index + 1);
                current = new Phase(workload);
                phases.current = current;
            } else {
                phases.current = null;
            }
            listener.closed(new Interval(index, ended, Duration.ofNanos(end - start)));
            start = end;
        }
        boolean drained = stopped.await(drainTimeout.toMillis(), TimeUnit.MILLISECONDS);
        return new IntervalRun(warmupPhase, drained ? 0 : stopped.getCount());
    }

    /** The warm-up of a run in intervals, and the clients still waiting for a response at its end. */
    record IntervalRun(Phase warmup, long requestsStillInFlight) {}

    private static void sleepUntil(long deadlineNanos) throws InterruptedException {
        long remaining;
        while ((remaining = deadlineNanos - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(Math.min(remaining, TimeUnit.MILLISECONDS.toNanos(200)));
        }
    }

    /** The phase new requests are counted in; {@code null} once the measured window has closed. */
    private static final class PhaseSwitch {
        volatile Phase current;
    }

    /**
     * One simulated client: one request at a time, the next chosen from the workload's mix. Its
     * state is touched by one thread at a time (the one completing its previous request).
     */
    private final class VirtualClient implements BiConsumer<HttpResponse<Void>, Throwable> {
        private final Workload workload;
        private final SplittableRandom random;
        private final PhaseSwitch phases;
        private final CountDownLatch stopped;
        private OperationStats inFlight;
        private long sentAt;

        VirtualClient(Workload workload, SplittableRandom random, PhaseSwitch phases, CountDownLatch stopped) {
            this.workload = workload;
            this.random = random;
            this.phases = phases;
            this.stopped = stopped;
        }

        void sendNext() {
            Phase current = phases.current;
            if (current == null) {
                stopped.countDown();
                return;
            }
            Operation operation = workload.pick(random);
            inFlight = current.of(operation);
            HttpRequest request;
            try {
                request = requests.build(operation, random);
            } catch (RuntimeException e) {
                // E.g. the token could not be renewed: counted, then retried after a pause
                // rather than in a tight loop against a failing token endpoint.
                inFlight.recordTransportError(e);
                CompletableFuture.delayedExecutor(PAUSE_AFTER_REQUEST_BUILD_FAILURE.toMillis(), TimeUnit.MILLISECONDS,
                        executor).execute(this::sendNext);
                return;
            }
            sentAt = System.nanoTime();
            CompletableFuture<HttpResponse<Void>> response = client.sendAsync(request, HttpResponse.BodyHandlers.discarding());
            if (response.isDone()) {
                // Completed already (typically a refused connection): continue on the executor, not
                // on this stack, which would otherwise grow with every immediate failure.
                executor.execute(() -> response.whenComplete(this));
            } else {
                response.whenComplete(this);
            }
        }

        @Override
        public void accept(HttpResponse<Void> response, Throwable failure) {
            long latency = System.nanoTime() - sentAt;
            if (failure != null) {
                inFlight.recordTransportError(failure);
            } else {
                inFlight.recordResponse(response.statusCode(), latency);
            }
            sendNext();
        }
    }
}
