package health.carapace.signin.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Hears PostgreSQL announce a change to who may call (a user, a session, a service client, a
 * revoked token: the triggers of migration V13), on a connection of its own that LISTENs, and
 * counts them: {@link #generation()} moves on every announcement, and whenever the channel was
 * lost and found again (announcements may have been missed in between). A cached answer is good
 * only while the generation it was computed in is still the current one, and only while the
 * channel is {@link #live()}: proven within {@link #PROOF_OF_LIFE} to deliver, by this node's own
 * ping coming back through PostgreSQL on it (a round trip alone would not show that LISTEN
 * works, behind a pooler that moves statements between backends, say). When it is not, callers are looked up on every
 * request again; never is a cached allow kept on a channel that could have missed its revocation.
 */
public final class CallerChanges implements SmartLifecycle {

    static final String CHANNEL = "carapace_caller_change";
    /** The listening connection's {@code application_name} in {@code pg_stat_activity}. */
    static final String APPLICATION_NAME = "carapace-caller-changes";
    /** How often the listening connection proves it is alive when nothing is announced. */
    static final Duration HEARTBEAT = Duration.ofMillis(500);
    /** How long a proof of life lasts: past it, caches are bypassed until the channel answers again. */
    static final Duration PROOF_OF_LIFE = Duration.ofSeconds(2);

    private static final Logger log = LoggerFactory.getLogger(CallerChanges.class);

    private final DataSource dataSource;
    /** Pings every node sends on itself; each listens for its own. */
    static final String PING_CHANNEL = "carapace_caller_ping";

    private final AtomicLong generation = new AtomicLong();
    /** When this node's last ping came back ({@link System#nanoTime()}; a wall-clock step must not stretch it). */
    private volatile long aliveAtNanos;
    private volatile boolean alive;
    private final String pingToken = java.util.UUID.randomUUID().toString();
    private volatile boolean running;
    private volatile Thread listener;

    CallerChanges(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * A change to who may call made on this node: its cached callers are dropped as soon as the
     * change commits (or at once, outside a transaction), without waiting for the announcement to
     * come back, so the next request on this node sees it whatever the listener is doing. The
     * other nodes drop theirs on the announcement. Call it after the change's statement.
     */
    public void changedHere() {
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCompletion(int status) {
                    // after a rollback too: harmless, and never later than the commit
                    generation.incrementAndGet();
                }
            });
        } else {
            generation.incrementAndGet();
        }
    }

    /** Moves on with every announcement and every loss of the channel. */
    long generation() {
        return generation.get();
    }

    /** Whether the channel was proven alive recently enough for a cached answer to be trusted. */
    boolean live() {
        return running && alive && System.nanoTime() - aliveAtNanos < PROOF_OF_LIFE.toNanos();
    }

    @Override
    public void start() {
        running = true;
        Thread thread = new Thread(this::listen, "caller-changes");
        thread.setDaemon(true);
        listener = thread;
        thread.start();
    }

    @Override
    public void stop() {
        running = false;
        Thread thread = listener;
        if (thread != null) {
            thread.interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    private void listen() {
        while (running) {
            try (Connection connection = dataSource.getConnection()) {
                try {
                    hear(connection);
                } finally {
                    // A pooled connection goes back to the pool: it must not keep listening.
                    alive = false;
                    if (!connection.isClosed()) {
                        try (Statement statement = connection.createStatement()) {
                            statement.execute("UNLISTEN *; RESET application_name");
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                alive = false;
                generation.incrementAndGet();
                if (running) {
                    log.warn("Lost the caller-change channel; callers are looked up on every request until it is back ({})",
                            e.getClass().getSimpleName());
                    pause();
                }
            }
        }
        alive = false;
    }

    private void hear(Connection connection) throws SQLException {
        connection.setAutoCommit(true);
        try (Statement statement = connection.createStatement()) {
            // named, so that an operator (or a test) can find the listening backend
            statement.execute("SET application_name = '" + APPLICATION_NAME + "'; LISTEN " + CHANNEL + "; LISTEN "
                    + PING_CHANNEL);
        }
        PGConnection postgres = connection.unwrap(PGConnection.class);
        // Whatever happened before this LISTEN was not heard: answers cached until now are dropped.
        generation.incrementAndGet();
        try (var ping = connection.prepareStatement("select pg_notify('" + PING_CHANNEL + "', ?)")) {
            ping.setString(1, pingToken);
            long pingSentAt = System.nanoTime();
            ping.execute();
            boolean awaitingEcho = true;
            long nextPingAt = pingSentAt + HEARTBEAT.toNanos();
            while (running) {
                long now = System.nanoTime();
                if (!awaitingEcho && now - nextPingAt >= 0) {
                    pingSentAt = now;
                    ping.execute();
                    awaitingEcho = true;
                    nextPingAt = now + HEARTBEAT.toNanos();
                }
                if (awaitingEcho && now - pingSentAt > PROOF_OF_LIFE.toNanos()) {
                    throw new SQLException("this node's ping did not come back through the channel");
                }
                int waitMillis = (int) Math.max(1, Math.min(HEARTBEAT.toMillis(), (nextPingAt - now) / 1_000_000));
                for (PGNotification notification : orEmpty(postgres.getNotifications(waitMillis))) {
                    if (CHANNEL.equals(notification.getName())) {
                        generation.incrementAndGet();
                    } else if (awaitingEcho && pingToken.equals(notification.getParameter())) {
                        // delivered: everything announced before the ping was sent has been heard
                        aliveAtNanos = pingSentAt;
                        alive = true;
                        awaitingEcho = false;
                    }
                }
            }
        }
    }

    private static PGNotification[] orEmpty(PGNotification[] notifications) {
        return notifications == null ? new PGNotification[0] : notifications;
    }

    private void pause() {
        try {
            Thread.sleep(HEARTBEAT.toMillis());
        } catch (InterruptedException stopped) {
            Thread.currentThread().interrupt();
        }
    }
}
