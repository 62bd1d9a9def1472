package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed.SealedEvent;
import health.carapace.incident.Severity;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code bulk-read}: one request (a search page, an export) that returned records of more than a
 * threshold of distinct patients. A search is audited as one {@code viewed} event per patient on
 * the page, all carrying the request id, so the distinct patients per request id are counted.
 */
final class BulkReadDetector implements Detector {

    static final String CODE = "bulk-read";
    private static final int MAX_REQUESTS = 10_000;

    private final int threshold;
    private final Map<String, Set<String>> patientsByRequest = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Set<String>> eldest) {
            return size() > MAX_REQUESTS;
        }
    };

    BulkReadDetector(IncidentSettings settings) {
        this.threshold = settings.bulkReadPatients();
    }

    @Override
    public String code() {
        return CODE;
    }

    @Override
    public void inspect(SealedEvent sealed, List<Detection> found) {
        var e = sealed.event();
        if (!"viewed".equals(e.action()) || !AuditedAccess.patientAccess(e) || e.requestId() == null) {
            return;
        }
        Set<String> patients = patientsByRequest.computeIfAbsent(e.user() + " " + e.requestId(), k -> new HashSet<>());
        if (patients.add(e.patient()) && patients.size() == threshold + 1) {
            found.add(Detection.of(CODE, Severity.HIGH, sealed, "request"));
        }
    }
}
