package health.carapace.disposal.internal;

import health.carapace.disposal.Shredding;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Finishes approved shredding whose keyring deletion did not happen (a crash, or the keyring was
 * unreachable): once the server is up, then every minute. Until then the tombstone already
 * refuses every read and write of the patient's records.
 */
@Component
class ShreddingResumption implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(ShreddingResumption.class);

    private final Shredding shredding;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "shredding-resumption");
        thread.setDaemon(true);
        return thread;
    });

    ShreddingResumption(Shredding shredding) {
        this.shredding = shredding;
    }

    @EventListener(ApplicationReadyEvent.class)
    void start() {
        executor.scheduleWithFixedDelay(this::resume, 0, 60, TimeUnit.SECONDS);
    }

    private void resume() {
        try {
            int resumed = shredding.resumeApproved();
            if (resumed > 0) {
                log.info("Resumed {} approved crypto-shredding requests", resumed);
            }
        } catch (RuntimeException e) {
            log.warn("Resuming approved crypto-shredding failed; retrying in a minute", e);
        }
    }

    @Override
    public void destroy() {
        executor.shutdownNow();
    }
}
