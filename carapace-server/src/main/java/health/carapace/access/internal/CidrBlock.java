package health.carapace.access.internal;

import com.google.common.net.InetAddresses;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 network in CIDR notation ({@code 192.168.1.0/24}, {@code 2001:db8::/32}; a bare
 * address means one host). Parsed with Guava's literal-only parser, so a string never triggers a
 * DNS lookup, and compared on address bytes under the prefix mask. IPv4-mapped IPv6 client
 * addresses ({@code ::ffff:192.168.1.7}) are compared as the IPv4 address they carry, so a
 * dual-stack socket cannot move a client out of (or into) an IPv4 range.
 */
final class CidrBlock {

    private final byte[] network;
    private final int prefix;

    private CidrBlock(byte[] network, int prefix) {
        this.network = network;
        this.prefix = prefix;
    }

    /**
     * Parses one CIDR. Host bits beyond the prefix must be zero ({@code 192.168.1.5/24} is refused:
     * it usually means a typo, and silently widening it would grant more than was written).
     *
     * @throws IllegalArgumentException with a message that does not echo the input
     */
    static CidrBlock parse(String text) {
        if (text == null || text.isEmpty() || text.length() > 64) {
            throw new IllegalArgumentException("not a CIDR (address/prefix)");
        }
        int slash = text.indexOf('/');
        String addressPart = slash < 0 ? text : text.substring(0, slash);
        if (addressPart.indexOf('%') >= 0) {
            throw new IllegalArgumentException("zone ids (%...) are not allowed in a CIDR");
        }
        InetAddress address;
        try {
            address = InetAddresses.forString(addressPart);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not an IPv4 or IPv6 address");
        }
        if (address instanceof Inet4Address && addressPart.indexOf(':') >= 0) {
            throw new IllegalArgumentException("write IPv4-mapped IPv6 ranges in IPv4 form");
        }
        byte[] bytes = address.getAddress();
        int maxPrefix = bytes.length * 8;
        int prefix = maxPrefix;
        if (slash >= 0) {
            String prefixPart = text.substring(slash + 1);
            if (prefixPart.isEmpty() || prefixPart.length() > 3 || !prefixPart.chars().allMatch(c -> c >= '0' && c <= '9')
                    || (prefixPart.length() > 1 && prefixPart.charAt(0) == '0')) {
                throw new IllegalArgumentException("the prefix length must be a decimal number");
            }
            prefix = Integer.parseInt(prefixPart);
            if (prefix > maxPrefix) {
                throw new IllegalArgumentException("the prefix length is above " + maxPrefix);
            }
        }
        byte[] masked = mask(bytes, prefix);
        if (!Arrays.equals(masked, bytes)) {
            throw new IllegalArgumentException("host bits are set beyond the prefix length");
        }
        return new CidrBlock(masked, prefix);
    }

    boolean contains(InetAddress address) {
        byte[] bytes = canonicalBytes(address);
        if (bytes.length != network.length) {
            return false;
        }
        int fullBytes = prefix / 8;
        for (int i = 0; i < fullBytes; i++) {
            if (bytes[i] != network[i]) {
                return false;
            }
        }
        int remainingBits = prefix % 8;
        if (remainingBits == 0) {
            return true;
        }
        int m = (0xFF << (8 - remainingBits)) & 0xFF;
        return (bytes[fullBytes] & m) == (network[fullBytes] & m);
    }

    /** IPv4-mapped IPv6 addresses become their 4 IPv4 bytes; everything else as is. */
    static byte[] canonicalBytes(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (address instanceof Inet6Address && isIpv4Mapped(bytes)) {
            return Arrays.copyOfRange(bytes, 12, 16);
        }
        return bytes;
    }

    private static boolean isIpv4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
    }

    private static byte[] mask(byte[] bytes, int prefix) {
        byte[] out = bytes.clone();
        for (int bit = prefix; bit < out.length * 8; bit++) {
            out[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return out;
    }

    @Override
    public String toString() {
        try {
            // RFC 5952 text (::1/128, not 0:0:0:0:0:0:0:1/128): what an administrator wrote and reads
            return com.google.common.net.InetAddresses.toAddrString(InetAddress.getByAddress(network)) + "/" + prefix;
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
