package health.carapace.records.internal;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.IPagingProvider;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;

/**
 * Keeps every search's criteria out of {@code Bundle.link}. HAPI writes a search's criteria back
 * into its {@code self} link, and criteria are PHI: names, birth dates, identifiers, SSNs in any
 * spelling. A URL is kept by clients, proxies and their logs long after the response. So the
 * {@code self} of every search becomes the opaque page link of the same results
 * ({@code ?_getpages=…}, owned by the caller, see {@link OwnedPagingProvider}), and any other link
 * that is not a page link is dropped. For every caller and every search: deciding which criteria
 * might be sensitive was the rule that kept missing spellings (ADR 0012). Paging links
 * ({@code next}, {@code previous}) carry no criteria already.
 */
@Interceptor
final class OpaqueSearchLinks {

    /** Where the search handler leaves its results, so that an opaque link to them can be made. */
    static final String RESULTS_KEY = OpaqueSearchLinks.class.getName() + ".results";

    private static final Pattern PAGE_LINK = Pattern.compile("[?&]_getpages=([^&]+)");
    private static final Pattern PAGE_OFFSET = Pattern.compile("([?&]_getpagesoffset=)[0-9]+");

    private final IPagingProvider paging;

    OpaqueSearchLinks(IPagingProvider paging) {
        this.paging = paging;
    }

    @Hook(value = Pointcut.SERVER_OUTGOING_RESPONSE, order = InterceptorOrder.OPAQUE_SEARCH_LINKS)
    public boolean rewrite(RequestDetails request, IBaseResource response) {
        if (!(response instanceof Bundle bundle) || (request.getRestOperationType() != RestOperationTypeEnum.SEARCH_TYPE
                && request.getRestOperationType() != RestOperationTypeEnum.SEARCH_SYSTEM)) {
            return true;
        }
        String self = opaqueSelf(request, bundle);
        bundle.getLink().removeIf(link -> !link.hasUrl() || !PAGE_LINK.matcher(link.getUrl()).find()
                || link.getRelation() == null || link.getRelation().equals(Bundle.LINK_SELF));
        if (self != null) {
            bundle.getLink().add(0, new Bundle.BundleLinkComponent().setRelation(Bundle.LINK_SELF).setUrl(self));
        }
        return true;
    }

    /** The first page of these results as an opaque page link; null if the results cannot be kept. */
    private String opaqueSelf(RequestDetails request, Bundle bundle) {
        for (Bundle.BundleLinkComponent link : bundle.getLink()) {
            if (link.hasUrl() && !Bundle.LINK_SELF.equals(link.getRelation()) && PAGE_LINK.matcher(link.getUrl()).find()) {
                // HAPI kept the results for paging already: the same link, at offset 0
                Matcher offset = PAGE_OFFSET.matcher(link.getUrl());
                return offset.find() ? offset.replaceFirst("$10") : null;
            }
        }
        if (!(request.getUserData().get(RESULTS_KEY) instanceof IBundleProvider results)) {
            return null;
        }
        String id = paging.storeResultList(request, results);
        if (id == null) {
            return null;
        }
        return request.getFhirServerBase() + "?_getpages=" + id + "&_getpagesoffset=0&_count=" + pageSize(request)
                + "&_bundletype=searchset";
    }

    private int pageSize(RequestDetails request) {
        String[] counts = request.getParameters().get("_count");
        try {
            int asked = counts == null || counts.length == 0 ? paging.getDefaultPageSize() : Integer.parseInt(counts[0]);
            return Math.max(1, Math.min(asked, paging.getMaximumPageSize()));
        } catch (NumberFormatException e) {
            return paging.getDefaultPageSize();
        }
    }
}
