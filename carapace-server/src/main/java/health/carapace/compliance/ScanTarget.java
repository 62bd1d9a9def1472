package health.carapace.compliance;

import health.carapace.platform.logging.SafeMessage;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Where a vulnerability scan may point: this machine's own server over HTTPS, by a loopback
 * address ({@code 127.0.0.0/8}, {@code ::1}) or {@code localhost}, with a port and nothing else
 * (no path, query, user info). Scanning anything else from the pipeline would be scanning
 * someone else's system; it is refused before a scanner starts.
 */
public record ScanTarget(String host, int port) {

    /** A refused target; the message never repeats it. */
    public static final class Refused extends IllegalArgumentException implements SafeMessage {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    private static final Pattern IPV4_LOOPBACK = Pattern.compile("127(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}");

    public static ScanTarget parse(String url) {
        if (url == null || url.length() > 200) {
            throw new Refused("the scan target must be https://127.0.0.1:PORT, https://[::1]:PORT or https://localhost:PORT");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new Refused("the scan target is not a URL");
        }
        if (!"https".equals(uri.getScheme()) || uri.getRawUserInfo() != null || uri.getRawQuery() != null
                || uri.getRawFragment() != null || (uri.getRawPath() != null && !uri.getRawPath().isEmpty()
                        && !uri.getRawPath().equals("/"))) {
            throw new Refused("the scan target must be https://HOST:PORT with no path, query or user info");
        }
        String host = uri.getHost();
        if (host == null || uri.getPort() < 1 || uri.getPort() > 65535) {
            throw new Refused("the scan target must name a host and a port");
        }
        if (!isLoopback(host)) {
            throw new Refused("the scan target is outside the loopback: only this machine's own server may be scanned");
        }
        return new ScanTarget(host, uri.getPort());
    }

    static boolean isLoopback(String host) {
        if (host.equals("localhost") || IPV4_LOOPBACK.matcher(host).matches()) {
            return true;
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            try {
                // An IPv6 literal: parsed without a lookup (it contains ':'), never a name resolution.
                return InetAddress.getByName(host.substring(1, host.length() - 1)).isLoopbackAddress();
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return false;
    }

    public String url() {
        return "https://" + host + ":" + port;
    }
}
