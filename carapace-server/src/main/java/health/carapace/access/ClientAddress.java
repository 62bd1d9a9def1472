package health.carapace.access;

import com.google.common.net.InetAddresses;
import health.carapace.platform.logging.SafeMessage;
import jakarta.servlet.http.HttpServletRequest;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.function.Predicate;

/**
 * The real client address of a request, the one the IP-range constraints are checked against.
 * {@code X-Forwarded-For} is honoured only when the TCP peer is a configured trusted proxy
 * ({@code carapace.access.trusted-proxies}, CIDRs, empty by default): the header is walked from
 * the right, skipping trusted proxies, and the first other address is the client. A header that
 * does not parse (ports, brackets, "unknown", too many entries) gives the peer address, and no part
 * of it is ever echoed or logged. Addresses are parsed as literals only: never a DNS lookup.
 */
public final class ClientAddress {

    public static final String FORWARDED_FOR = "X-Forwarded-For";
    /** More entries than this is not a proxy chain; treated as malformed. */
    static final int MAX_ENTRIES = 32;
    private static final int MAX_HEADER_CHARS = 2048;

    private final Predicate<InetAddress> trustedProxy;

    /** Thrown when the trusted-proxies setting does not parse; names the entry by position. */
    public static final class BadTrustedProxies extends IllegalArgumentException implements SafeMessage {
        public BadTrustedProxies(String message) {
            super(message);
        }
    }

    public ClientAddress(Predicate<InetAddress> trustedProxy) {
        this.trustedProxy = trustedProxy;
    }

    /** The client address of this request. */
    public InetAddress resolve(HttpServletRequest request) {
        Enumeration<String> headers = request.getHeaders(FORWARDED_FOR);
        return resolve(request.getRemoteAddr(), headers == null ? List.of() : Collections.list(headers));
    }

    /**
     * @param peer the TCP peer address as the servlet container reports it (a literal)
     * @param forwardedFor the values of every X-Forwarded-For header, in order
     */
    public InetAddress resolve(String peer, List<String> forwardedFor) {
        // Tomcat reports link-local peers with their zone id; the zone is not part of the address.
        int zone = peer == null ? -1 : peer.indexOf('%');
        InetAddress peerAddress = literal(zone < 0 ? peer : peer.substring(0, zone));
        if (peerAddress == null) {
            throw new IllegalStateException("the servlet container reported a peer address that is not a literal");
        }
        if (forwardedFor.isEmpty() || !trustedProxy.test(peerAddress)) {
            return peerAddress;
        }
        List<String> entries = new ArrayList<>();
        int chars = 0;
        for (String header : forwardedFor) {
            chars += header.length();
            if (chars > MAX_HEADER_CHARS) {
                return peerAddress;
            }
            for (String part : header.split(",", -1)) {
                entries.add(part.strip());
            }
        }
        if (entries.size() > MAX_ENTRIES) {
            return peerAddress;
        }
        InetAddress client = peerAddress;
        for (int i = entries.size() - 1; i >= 0; i--) {
            InetAddress hop = literal(entries.get(i));
            if (hop == null) {
                return peerAddress;
            }
            client = hop;
            if (!trustedProxy.test(hop)) {
                return hop;
            }
        }
        // Every hop is a trusted proxy: the leftmost is the furthest we know.
        return client;
    }

    /** A bare IPv4 or IPv6 literal (no port, brackets or zone id), or null. */
    private static InetAddress literal(String text) {
        if (text == null || text.isEmpty() || text.length() > 45 || text.indexOf('%') >= 0) {
            return null;
        }
        try {
            return InetAddresses.forString(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
