package health.carapace.platform.web;

import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Spring's {@link OncePerRequestFilter}, for every Carapace filter, with its "already filtered"
 * attribute name built once instead of on every request.
 *
 * <p>Spring builds the name ({@code <filter name>.FILTERED}) each time a filter runs, and looks it up,
 * sets and removes it through every request wrapper down to Tomcat's request: a new string,
 * concatenated and hashed anew, for each of the twenty-odd filters a read passes through. The
 * profile of an authenticated read put these filters' bookkeeping at 8% of the request threads'
 * samples (docs/BENCHMARKS.md, issue 13); a name made once keeps its hash and costs no allocation.
 *
 * <p>Nothing else changes: the name is Spring's own, taken when the filter first runs (after the
 * container's {@code init} or the bean factory has named it), so the filter is skipped on exactly
 * the dispatches it was skipped on before.
 */
public abstract class RequestFilter extends OncePerRequestFilter {

    /** Spring's name for this filter's attribute; an immutable string, so a racy first write is harmless. */
    private String alreadyFilteredAttributeName;

    @Override
    protected final String getAlreadyFilteredAttributeName() {
        String name = alreadyFilteredAttributeName;
        if (name == null) {
            name = super.getAlreadyFilteredAttributeName();
            alreadyFilteredAttributeName = name;
        }
        return name;
    }
}
