package health.carapace.signin.internal;

import health.carapace.signin.Users;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Disables every account whose access end date has passed (sessions end with it, audited as any
 * disabling), every five minutes: well inside the proposed rule's one hour. Disabling twice is
 * harmless, so several nodes may run it.
 */
@Component
@ConditionalOnWebApplication
class AccessEndEnforcement implements SmartLifecycle {

    static final Duration CADENCE = Duration.ofMinutes(5);
    private static final Logger log = LoggerFactory.getLogger(AccessEndEnforcement.class);

    private final JdbcClient jdbc;
    private final Users users;
    private final Clock clock;
    private ScheduledExecutorService scheduler;

    AccessEndEnforcement(DataSource dataSource, Users users, Clock clock) {
        this.jdbc = JdbcClient.create(dataSource);
        this.users = users;
        this.clock = clock;
    }

    int disablePastEnd() {
        List<String> due = jdbc.sql("select user_name from iam.app_user where not disabled and access_ends_at <= ?")
                .param(Timestamp.from(clock.instant()))
                .query(String.class).list();
        due.forEach(users::disable);
        return due.size();
    }

    @Override
    public synchronized void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "access-end");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                disablePastEnd();
            } catch (RuntimeException e) {
                log.error("Disabling accounts past their access end failed; retried in {}", CADENCE, e);
            }
        }, CADENCE.toMillis(), CADENCE.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return scheduler != null;
    }
}
