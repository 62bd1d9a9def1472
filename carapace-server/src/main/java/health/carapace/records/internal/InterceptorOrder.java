package health.carapace.records.internal;

/**
 * The order of Carapace's HAPI interceptors where several share a pointcut, in one place. HAPI
 * runs hooks of one pointcut by ascending order; the pointcuts themselves run in request order
 * (pre-processed, post-processed, the handler, outgoing response, outgoing exception).
 */
final class InterceptorOrder {

    // SERVER_INCOMING_REQUEST_POST_PROCESSED: after the method is chosen, before any parameter is bound.
    /** The access decision, before anything of the request is parsed or checked (decide before parsing). */
    static final int DECISION = -100;
    /** Paging parameters, checked only for a caller already decided. */
    static final int RESULT_PARAMETERS = DECISION + 1;
    /** The body, scanned only for a caller already decided, before the parser sees it. */
    static final int STRICT_BODY = DECISION + 2;

    // SERVER_OUTGOING_RESPONSE: after the handler, before the response is written.
    /** The audit events are durable first: if they cannot be, nothing else is done and nothing leaves. */
    static final int READ_AUDIT = 0;
    /** A create's or update's stored JSON sent as the response when nothing must change (then nothing after runs). */
    static final int STORED_ECHO = 5;
    /** SSNs masked for callers without view:ssn. */
    static final int SSN_MASKING = 10;
    /** Search links made opaque (the page link), after everything else has looked at the bundle. */
    static final int OPAQUE_SEARCH_LINKS = 20;
    /** A search page written with its records' stored JSON when nothing must change (then nothing after runs). */
    static final int STORED_BUNDLE = 30;

    private InterceptorOrder() {
    }
}
