package health.carapace.audit.internal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.crypto.KeyLifecycleEvent;
import java.util.List;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Records every key change (rotation started or finished, version activated or retired, old data
 * keys destroyed) as an {@code admin_change} event. Synchronous: the crypto module's step waits for
 * the event to be durable, and fails if it cannot be (fail closed).
 */
@Component
class KeyLifecycleAudit {

    private final AuditTrail trail;

    KeyLifecycleAudit(AuditTrail trail) {
        this.trail = trail;
    }

    @EventListener
    void on(KeyLifecycleEvent event) {
        trail.record(List.of(AuditEvent.now(event.actor(), AuditAction.ADMIN_CHANGE, event.resource(),
                AuditContext.none(), true, event.patient(), null, null)));
    }
}
