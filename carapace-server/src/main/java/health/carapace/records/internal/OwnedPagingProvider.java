package health.carapace.records.internal;

import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.FifoMemoryPagingProvider;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;

/**
 * Keeps search results for paging, and hands a page only to the caller who ran the search: a
 * {@code _getpages} id seen by someone else (in a log, a proxy, a shared link) opens nothing.
 */
final class OwnedPagingProvider extends FifoMemoryPagingProvider {

    private final Map<String, String> owners = new ConcurrentHashMap<>();
    private final int capacity;

    OwnedPagingProvider(int capacity) {
        super(capacity);
        this.capacity = capacity;
    }

    @Override
    public synchronized String storeResultList(RequestDetails request, IBundleProvider results) {
        if (results instanceof SearchResults.Listed listed) {
            // kept beyond this response: later pages load their records afresh
            listed.forgetDecrypted();
        }
        String id = super.storeResultList(request, results);
        owners.put(id, caller());
        if (owners.size() > capacity * 2) {
            owners.keySet().removeIf(key -> super.retrieveResultList(request, key) == null);
        }
        return id;
    }

    @Override
    public synchronized IBundleProvider retrieveResultList(RequestDetails request, String id) {
        if (!Objects.equals(owners.get(id), caller())) {
            return null;
        }
        return super.retrieveResultList(request, id);
    }

    private static String caller() {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        return authentication == null ? "" : authentication.getName();
    }
}
