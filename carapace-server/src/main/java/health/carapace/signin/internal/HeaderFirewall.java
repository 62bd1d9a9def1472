package health.carapace.signin.internal;

import org.springframework.security.web.firewall.StrictHttpFirewall;

/**
 * Spring's strict firewall, with header checks that are stricter and cheaper than its defaults.
 * The default checks every character of every header value, on every {@code getHeader} call,
 * against a Unicode-category regular expression; with a bearer token of several hundred
 * characters read several times per request, that was most of the server's CPU on reads
 * (docs/BENCHMARKS.md). HTTP field values are visible ASCII, space and tab (RFC 9110 §5.5;
 * obsolete non-ASCII text is not accepted), names are tokens: checked with a plain loop.
 */
final class HeaderFirewall {

    private HeaderFirewall() {
    }

    static StrictHttpFirewall create() {
        StrictHttpFirewall firewall = new StrictHttpFirewall();
        firewall.setAllowedHeaderNames(HeaderFirewall::isToken);
        firewall.setAllowedHeaderValues(HeaderFirewall::isFieldValue);
        return firewall;
    }

    /** RFC 9110 field-value: visible ASCII, space and horizontal tab; nothing else. */
    static boolean isFieldValue(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    /** RFC 9110 token: the characters a header name may have. */
    static boolean isToken(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean alphanumeric = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!alphanumeric && "!#$%&'*+-.^_`|~".indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }
}
