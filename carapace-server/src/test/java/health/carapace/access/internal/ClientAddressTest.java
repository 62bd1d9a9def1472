package health.carapace.access.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.access.ClientAddress;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** X-Forwarded-For is honoured only behind a trusted proxy, walked from the right; bad input gives the peer. */
class ClientAddressTest {

    private final ClientAddress none = new AccessPolicyConfiguration().clientAddress("");
    private final ClientAddress behindProxies = new AccessPolicyConfiguration().clientAddress("10.0.0.0/8, fd00::/8");

    private static String resolve(ClientAddress resolver, String peer, String... forwardedFor) {
        return resolver.resolve(peer, List.of(forwardedFor)).getHostAddress();
    }

    @Test
    void withoutTrustedProxiesTheHeaderIsIgnored() {
        assertThat(resolve(none, "203.0.113.9", "192.168.1.20")).isEqualTo("203.0.113.9");
        assertThat(resolve(none, "10.0.0.1", "192.168.1.20")).isEqualTo("10.0.0.1");
    }

    @Test
    void aSpoofedHeaderFromAnUntrustedPeerIsIgnored() {
        assertThat(resolve(behindProxies, "203.0.113.9", "192.168.1.20")).isEqualTo("203.0.113.9");
        assertThat(resolve(behindProxies, "2001:db8::1", "10.0.0.5")).isEqualTo("2001:db8:0:0:0:0:0:1");
    }

    @Test
    void behindTrustedProxiesTheFirstUntrustedHopFromTheRightIsTheClient() {
        // The client prepended a spoofed 192.168.1.20; the proxy appended the real address.
        assertThat(resolve(behindProxies, "10.0.0.1", "192.168.1.20, 198.51.100.7")).isEqualTo("198.51.100.7");
        assertThat(resolve(behindProxies, "10.0.0.1", "198.51.100.7, 10.0.0.2")).isEqualTo("198.51.100.7");
        assertThat(resolve(behindProxies, "10.0.0.1", "198.51.100.7", "10.0.0.3, 10.0.0.2")).isEqualTo("198.51.100.7");
        assertThat(resolve(behindProxies, "fd00::1", "2001:db8::7")).isEqualTo("2001:db8:0:0:0:0:0:7");
        assertThat(resolve(behindProxies, "10.0.0.1", "10.0.0.9, 10.0.0.2")).isEqualTo("10.0.0.9");
        assertThat(resolve(behindProxies, "10.0.0.1")).isEqualTo("10.0.0.1");
    }

    @Test
    void aMalformedHeaderGivesThePeerAddress() {
        for (String bad : List.of("198.51.100.7:443", "[2001:db8::7]", "unknown", "", "example.org", "198.51.100.7 x",
                "fe80::1%eth0", "1.2.3", "198.51.100.7;rm -rf")) {
            assertThat(resolve(behindProxies, "10.0.0.1", bad)).as(bad).isEqualTo("10.0.0.1");
        }
        // More hops than any real proxy chain (the limit is 32).
        String tooMany = String.join(",", Collections.nCopies(33, "10.0.0.2"));
        assertThat(resolve(behindProxies, "10.0.0.1", tooMany)).isEqualTo("10.0.0.1");
        assertThat(resolve(behindProxies, "10.0.0.1", "x".repeat(5000))).isEqualTo("10.0.0.1");
    }

    @Test
    void aMalformedHopLeftOfTheClientDoesNotMatter() {
        assertThat(resolve(behindProxies, "10.0.0.1", "garbage, 198.51.100.7")).isEqualTo("198.51.100.7");
    }

    @Test
    void ipv4MappedPeersAreTheirIpv4Address() throws Exception {
        assertThat(resolve(behindProxies, "::ffff:10.0.0.1", "198.51.100.7")).isEqualTo("198.51.100.7");
        // The same through a CIDR check on an address object the JDK kept as IPv6.
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 192, (byte) 168, 1, 20};
        InetAddress six = Inet6Address.getByAddress(null, mapped, -1);
        assertThat(six).isInstanceOf(Inet6Address.class);
        assertThat(CidrBlock.parse("192.168.1.0/24").contains(six)).isTrue();
        assertThat(CidrBlock.parse("192.168.2.0/24").contains(six)).isFalse();
        assertThat(CidrBlock.parse("::/0").contains(six)).isFalse();
    }

    @Test
    void peersWithAZoneIdAreComparedWithoutIt() {
        assertThat(resolve(none, "fe80:0:0:0:0:0:0:1%2")).isEqualTo("fe80:0:0:0:0:0:0:1");
    }

    @Test
    void aBadTrustedProxySettingStopsStartupNamingTheEntry() {
        assertThatThrownBy(() -> new AccessPolicyConfiguration().clientAddress("10.0.0.0/8, proxy.internal"))
                .isInstanceOf(ClientAddress.BadTrustedProxies.class)
                .hasMessageContaining("carapace.access.trusted-proxies entry 2")
                .hasMessageNotContaining("proxy.internal");
    }
}
