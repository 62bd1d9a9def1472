package health.carapace.incident.internal;

import com.google.common.net.InetAddresses;
import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * An address range to block or lift ({@code 203.0.113.0/24}, {@code 2001:db8::/32}; a bare
 * address is one host), parsed with Guava's literal-only parser (a string never triggers a DNS
 * lookup) and checked completely before any containment action is taken: the prefix is a decimal
 * number no larger than the address family allows. Host bits beyond the prefix are cleared, as
 * PostgreSQL's {@code network()} does, so {@link #cidr()} is what is stored and compared.
 */
record BlockedRange(String cidr) {

    /** Thrown for anything that is not a range; its message never echoes the input. */
    static final class Malformed extends IllegalArgumentException {
        Malformed() {
            super("an address range is an IPv4 or IPv6 address, optionally with /prefix (at most 32 or 128)");
        }
    }

    static BlockedRange parse(String text) {
        if (text == null || text.isEmpty() || text.length() > 64) {
            throw new Malformed();
        }
        int slash = text.indexOf('/');
        String addressPart = slash < 0 ? text : text.substring(0, slash);
        if (addressPart.indexOf('%') >= 0) {
            throw new Malformed();
        }
        InetAddress address;
        try {
            address = InetAddresses.forString(addressPart);
        } catch (IllegalArgumentException notALiteral) {
            throw new Malformed();
        }
        if (address instanceof Inet4Address && addressPart.indexOf(':') >= 0) {
            // Guava turns ::ffff:a.b.c.d into IPv4; PostgreSQL keeps it IPv6: refuse the ambiguity.
            throw new Malformed();
        }
        byte[] bytes = address.getAddress();
        int maxPrefix = bytes.length * 8;
        int prefix = maxPrefix;
        if (slash >= 0) {
            String prefixPart = text.substring(slash + 1);
            if (prefixPart.isEmpty() || prefixPart.length() > 3 || !prefixPart.chars().allMatch(c -> c >= '0' && c <= '9')
                    || (prefixPart.length() > 1 && prefixPart.charAt(0) == '0')) {
                throw new Malformed();
            }
            prefix = Integer.parseInt(prefixPart);
            if (prefix > maxPrefix) {
                throw new Malformed();
            }
        }
        for (int bit = prefix; bit < maxPrefix; bit++) {
            bytes[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        InetAddress network;
        try {
            network = InetAddress.getByAddress(bytes);
        } catch (java.net.UnknownHostException impossible) {
            throw new Malformed();
        }
        return new BlockedRange(InetAddresses.toAddrString(network) + "/" + prefix);
    }
}
