package health.carapace.console.internal;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * A search's query as the audit trail keeps it (names and values percent-encoded, as the client
 * sent them) made readable for the explorer: decoded, so an investigator reads {@code family=O'Brien}
 * rather than {@code family=O%27Brien}. The page escapes it like every other value: decoding here
 * is what puts any markup a client sent in front of the escaping, where it belongs.
 */
public final class ReadableQueries {

    public String readable(String query) {
        if (query == null) {
            return "";
        }
        try {
            return URLDecoder.decode(query, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException notEncoded) {
            return query;
        }
    }
}
