package health.carapace.platform.web;

import org.springframework.core.Ordered;

/**
 * The order of the servlet filters in front of everything else (Spring Security's chains come
 * after all of them), in one place, so that what runs first is a decision and not an accident of
 * numbers spread over many classes. Each filter says why it stands where it stands.
 */
public final class FilterOrder {

    /** First: every later line of the log and every response carries the request id. */
    public static final int REQUEST_IDS = Ordered.HIGHEST_PRECEDENCE;
    /** Before anything can answer, so that every refusal carries the security headers too. */
    public static final int SECURITY_HEADERS = REQUEST_IDS + 1;
    /** Around every later filter: no exception reaches the container. */
    public static final int UNHANDLED_ERRORS = REQUEST_IDS + 2;
    /**
     * Request metrics time everything after the error guard, refusals included (an exception
     * passing through is counted as a 5xx, which is what the guard outside turns it into).
     */
    public static final int REQUEST_METRICS = REQUEST_IDS + 3;
    /** A request for another host is refused before anything looks at it. */
    public static final int HOST_ALLOW_LIST = REQUEST_IDS + 4;
    /** Methods the server does not know are refused before any route is matched. */
    public static final int KNOWN_METHODS = REQUEST_IDS + 5;
    /** Path tricks are refused before any filter interprets the path. */
    public static final int CANONICAL_PATHS = REQUEST_IDS + 6;
    /** Oversized and compressed bodies are refused before the body is read. */
    public static final int REQUEST_BODY_LIMIT = REQUEST_IDS + 10;
    /** Query strings and form bodies are decoded once, strictly, before anything reads a parameter. */
    public static final int DECODABLE_PARAMETERS = REQUEST_IDS + 11;
    /** The real client address, for the access decisions and the audit trail after it. */
    public static final int CLIENT_ADDRESS = REQUEST_IDS + 20;
    /**
     * Addresses blocked by incident containment are refused as soon as the real client address is
     * known, before authentication: a blocked attacker reaches neither the token endpoint nor sign-in.
     */
    public static final int CONTAINMENT_BLOCKS = REQUEST_IDS + 21;
    /**
     * The incident lockdown needs the resolved caller (its named administrators pass), so it runs
     * right after Spring Security's chain (order -100), before any route.
     */
    public static final int CONTAINMENT_LOCKDOWN = -99;
    /**
     * Each caller's rate limit needs the resolved caller too; after the lockdown, so that a refused
     * request does not use up its caller's share.
     */
    public static final int RATE_LIMITS = -98;

    private FilterOrder() {
    }
}
