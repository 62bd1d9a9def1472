package health.carapace.incident.internal;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.web.util.matcher.IpAddressMatcher;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The containment in force (blocked address ranges, the lockdown), cached per node and read on
 * every request. A listening connection hears PostgreSQL announce each change (the V19_1
 * triggers) and reloads at once; it also compares the change counter every
 * {@link #HEARTBEAT}, which both catches an announcement it missed and proves the channel alive.
 * While it is not proven alive within {@link #PROOF_OF_LIFE}, every request reads the state from
 * the database; if that fails too, {@link #current()} throws and the filters refuse (fail closed).
 */
final class ContainmentState implements SmartLifecycle {

    static final String CHANNEL = "carapace_containment_change";
    static final Duration HEARTBEAT = Duration.ofMillis(250);
    static final Duration PROOF_OF_LIFE = Duration.ofSeconds(1);
    private static final Logger log = LoggerFactory.getLogger(ContainmentState.class);

    /** What is in force. */
    record Snapshot(List<IpAddressMatcher> blocked, boolean lockdown, Set<String> allowed, long version,
            Set<String> suspendedRoles) {

        boolean blocks(String address) {
            if (address == null) {
                return false;
            }
            for (IpAddressMatcher range : blocked) {
                if (range.matches(address)) {
                    return true;
                }
            }
            return false;
        }
    }

    private final DataSource dataSource;
    private final JdbcClient jdbc;
    private volatile Snapshot cached;
    private volatile long aliveAtNanos;
    private volatile boolean running;
    private volatile Thread listener;

    ContainmentState(DataSource dataSource) {
        this.dataSource = dataSource;
        this.jdbc = JdbcClient.create(dataSource);
    }

    /** The containment in force now; throws if it cannot be known (callers refuse). */
    Snapshot current() {
        Snapshot snapshot = cached;
        if (snapshot != null && live()) {
            return snapshot;
        }
        return load();
    }

    /** A change made on this node: the next request here reads it, without waiting for the announcement. */
    void changedHere() {
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCompletion(int status) {
                    cached = null;
                }
            });
        } else {
            cached = null;
        }
    }

    private boolean live() {
        return running && System.nanoTime() - aliveAtNanos < PROOF_OF_LIFE.toNanos();
    }

    Snapshot load() {
        long version = jdbc.sql("select version from incident.containment_version").query(Long.class).single();
        List<IpAddressMatcher> blocked = new ArrayList<>();
        for (String range : jdbc.sql("select range::text from incident.blocked_range where lifted_at is null")
                .query(String.class).list()) {
            blocked.add(new IpAddressMatcher(range));
        }
        var lockdown = jdbc.sql("select active, allowed from incident.lockdown")
                .query((rs, n) -> new Object[] {rs.getBoolean(1), allowed(rs.getArray(2))})
                .optional();
        Set<String> suspended = Set.copyOf(jdbc.sql("select role from incident.suspended_role where lifted_at is null")
                .query(String.class).list());
        @SuppressWarnings("unchecked")
        Snapshot snapshot = new Snapshot(List.copyOf(blocked), lockdown.map(l -> (Boolean) l[0]).orElse(false),
                lockdown.map(l -> (Set<String>) l[1]).orElse(Set.of()), version, suspended);
        cached = snapshot;
        return snapshot;
    }

    /**
     * The allow list as stored, built tolerantly: a duplicate or a null in the column must never
     * make every request on every node fail (Set.of throws on duplicates).
     */
    private static Set<String> allowed(java.sql.Array column) throws java.sql.SQLException {
        if (column == null) {
            return Set.of();
        }
        Set<String> names = new java.util.HashSet<>();
        for (Object name : (Object[]) column.getArray()) {
            if (name instanceof String n) {
                names.add(n);
            }
        }
        return Set.copyOf(names);
    }

    @Override
    public void start() {
        running = true;
        Thread thread = new Thread(this::listen, "containment-changes");
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
                    try (Statement statement = connection.createStatement()) {
                        statement.execute("LISTEN " + CHANNEL);
                    }
                    PGConnection pg = connection.unwrap(PGConnection.class);
                    load();
                    while (running) {
                        PGNotification[] heard = pg.getNotifications((int) HEARTBEAT.toMillis());
                        long version;
                        try (Statement statement = connection.createStatement();
                                var rs = statement.executeQuery("select version from incident.containment_version")) {
                            rs.next();
                            version = rs.getLong(1);
                        }
                        Snapshot snapshot = cached;
                        if ((heard != null && heard.length > 0) || snapshot == null || snapshot.version() != version) {
                            load();
                        }
                        aliveAtNanos = System.nanoTime();
                    }
                } finally {
                    if (!connection.isClosed()) {
                        try (Statement statement = connection.createStatement()) {
                            statement.execute("UNLISTEN *");
                        }
                    }
                }
            } catch (Exception e) {
                aliveAtNanos = 0;
                if (!running) {
                    return;
                }
                log.warn("The containment channel was lost; requests read the containment state directly until it is back");
                try {
                    Thread.sleep(HEARTBEAT.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
