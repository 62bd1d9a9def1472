package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.audit.AuditQueries;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The access review's usage readings (ADR 0050): reused for 30 seconds, then read again in the
 * background while the old one is still used, and never used once older than two minutes, even
 * if the background never reads. Real Caffeine, on a time moved by the test; the audit trail's
 * usage query is replaced by a recorder of the readings asked for (what is tested is when they are
 * asked for, not what they find).
 */
class RecentUsageTest {

    private static final Instant START = Instant.parse("2026-12-05T12:00:00Z");

    private final AtomicLong nanos = new AtomicLong();
    private final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneId.of("UTC");
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return START.plusNanos(nanos.get());
        }
    };
    /** Each reading asked of the audit trail: the principal, since when, and on which thread. */
    private final List<String> readings = new CopyOnWriteArrayList<>();
    private final List<Thread> readers = new CopyOnWriteArrayList<>();

    private List<AuditQueries.Usage> read(String principal, Instant since) {
        readings.add(principal + " since " + since);
        readers.add(Thread.currentThread());
        return List.of(new AuditQueries.Usage("viewed", "fhir", "Patient"));
    }

    private void advance(Duration by) {
        nanos.addAndGet(by.toNanos());
    }

    @Test
    void aReadingIsReusedForThirtySecondsThenReadAgain() {
        RecentUsage usage = new RecentUsage(this::read, clock, nanos::get, Runnable::run);

        RecentUsage.Reading first = usage.usage("alice", 90, clock.instant());
        assertThat(first.readAt()).isEqualTo(START);
        assertThat(readings).containsExactly("alice since " + START.minus(Duration.ofDays(90)));
        advance(Duration.ofSeconds(29));
        assertThat(usage.usage("alice", 90, clock.instant())).isSameAs(first);
        // another window or another principal is a reading of its own
        assertThat(usage.usage("alice", 30, clock.instant()).readAt()).isEqualTo(clock.instant());
        assertThat(usage.usage("bob", 90, clock.instant()).readAt()).isEqualTo(clock.instant());
        assertThat(readings).hasSize(3);

        advance(Duration.ofSeconds(2));
        usage.usage("alice", 90, clock.instant()); // past 30 s: read again (here at once, on the asking thread)
        assertThat(readings).hasSize(4);
        assertThat(usage.usage("alice", 90, clock.instant()).readAt()).isEqualTo(START.plusSeconds(31));
    }

    @Test
    void aReadingIsNeverUsedOnceOlderThanTwoMinutesEvenIfTheBackgroundNeverReads() {
        List<Runnable> neverRun = new ArrayList<>();
        RecentUsage usage = new RecentUsage(this::read, clock, nanos::get, neverRun::add);
        RecentUsage.Reading first = usage.usage("alice", 90, clock.instant());

        advance(Duration.ofSeconds(90));
        // stale but within the bound: still used while the background reading waits
        assertThat(usage.usage("alice", 90, clock.instant())).isSameAs(first);
        assertThat(readings).hasSize(1);
        advance(Duration.ofSeconds(31));
        RecentUsage.Reading late = usage.usage("alice", 90, clock.instant());
        assertThat(late.readAt()).as("read on the request, the background still waiting").isEqualTo(clock.instant());
        assertThat(readings).hasSize(2);
        assertThat(Duration.between(late.readAt(), clock.instant())).isLessThanOrEqualTo(RecentUsage.AT_MOST);
    }

    @Test
    void aReadingDatedMoreThanTwoMinutesFromTheReviewsTimeIsReadAgain() {
        RecentUsage usage = new RecentUsage(this::read, clock, nanos::get, Runnable::run);
        usage.usage("alice", 90, clock.instant());
        // the review's own time three minutes on (a clock that moved apart from the cache's ticker)
        RecentUsage.Reading reading = usage.usage("alice", 90, clock.instant().plus(Duration.ofMinutes(3)));
        assertThat(readings).hasSize(2);
        assertThat(reading.readAt()).isEqualTo(clock.instant());
    }

    @Test
    void backgroundReadingsRunOnTheCachesOwnNamedDaemonThreadNotTheCommonPool() {
        RecentUsage usage = new RecentUsage(this::read, clock, nanos::get, null);
        try {
            usage.usage("alice", 90, clock.instant());
            advance(Duration.ofSeconds(31));
            usage.usage("alice", 90, clock.instant());
            await().atMost(Duration.ofSeconds(10)).until(() -> readers.size() == 2);
            Thread background = readers.get(1);
            assertThat(background.getName()).isEqualTo(RecentUsage.THREAD);
            assertThat(background.isDaemon()).isTrue();
            assertThat(background).isNotInstanceOf(java.util.concurrent.ForkJoinWorkerThread.class);
        } finally {
            usage.destroy();
        }
    }
}
