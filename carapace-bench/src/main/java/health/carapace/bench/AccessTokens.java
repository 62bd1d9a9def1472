package health.carapace.bench;

/** Where the {@code Authorization} header of each request comes from. */
interface AccessTokens {

    /** The header value to send, or {@code null} to send none. Called once per request: must be cheap. */
    String authorizationHeader();

    /** For servers that need no authentication, such as a stock HAPI FHIR JPA server. */
    AccessTokens NONE = () -> null;
}
