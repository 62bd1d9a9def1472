package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import health.carapace.platform.dev.DevTls;
import health.carapace.testing.LocalJwksServer;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Review F7: a backend client's JWKS URL is fetched from public addresses only, over https, with
 * no redirect, one deadline and a size cap, looked up once, and a failure is remembered.
 */
class JwksFetcherTest {

    private static Path tls;
    private static LocalJwksServer server;
    private static ECKey key;

    @BeforeAll
    static void start() throws Exception {
        tls = Files.createTempDirectory("jwks-tls");
        String password = DevTls.ensure(tls);
        assertThat(password).isNotBlank();
        server = new LocalJwksServer(tls);
        key = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
        server.serve(new JWKSet(key.toPublicJWK()).toString());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static JwksFetcher fetcher(boolean loopbackAllowed, JwksFetcher.NameLookup lookup) throws Exception {
        return new JwksFetcher(loopbackAllowed, JwksFetcher.trusting(tls.resolve(DevTls.KEYSTORE).toString(),
                Files.readString(tls.resolve(DevTls.PASSWORD_FILE)).trim()), lookup);
    }

    @Test
    void aLoopbackServerIsFetchedOnlyWhenTheDevSettingAllowsIt() throws Exception {
        List<JWK> keys = fetcher(true, InetAddress::getAllByName).keys(server.url("/jwks")).orElseThrow();
        assertThat(keys).extracting(JWK::getKeyID).containsExactly("k1");
        int before = server.hits("/jwks");
        assertThat(fetcher(false, InetAddress::getAllByName).keys(server.url("/jwks"))).isEmpty();
        assertThat(server.hits("/jwks")).as("refused before connecting").isEqualTo(before);
    }

    @Test
    void theHostIsLookedUpOnceAndTheCheckedAddressIsTheOneConnectedTo() throws Exception {
        // The server listens on 127.0.0.2 only, where the name "localhost" never leads: only a
        // connection made to the checked answer reaches it (a second lookup by the JDK would
        // connect to 127.0.0.1 and fail).
        try (LocalJwksServer pinned = new LocalJwksServer(tls, InetAddress.getByName("127.0.0.2"))) {
            pinned.serve(new JWKSet(key.toPublicJWK()).toString());
            AtomicInteger lookups = new AtomicInteger();
            // A rebinding resolver: a loopback answer first (allowed here), a metadata address after.
            JwksFetcher.NameLookup rebinding = host -> new InetAddress[] {lookups.getAndIncrement() == 0
                    ? InetAddress.getByName("127.0.0.2") : InetAddress.getByName("169.254.169.254")};
            assertThat(fetcher(true, rebinding).keys(pinned.url("/jwks")).orElseThrow()).hasSize(1);
            assertThat(lookups).hasValue(1);
            assertThat(pinned.hits("/jwks")).isEqualTo(1);
        }
    }

    @Test
    void aLookupThatNeverAnswersIsAbandonedAtTheDeadline() throws Exception {
        java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
        JwksFetcher.NameLookup hanging = host -> {
            try {
                // a name server that does not answer for longer than any deadline
                never.await(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return InetAddress.getAllByName(host);
        };
        long start = System.nanoTime();
        try {
            assertThat(fetcher(true, hanging).keys(server.url("/jwks"))).isEmpty();
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - start))
                    .isLessThan(JwksFetcher.DEADLINE.plusSeconds(2));
        } finally {
            never.countDown();
        }
    }

    @Test
    void aHostWithAnyInternalAddressIsRefused() throws Exception {
        JwksFetcher.NameLookup mixed = host -> new InetAddress[] {InetAddress.getByName("8.8.8.8"),
                InetAddress.getByName("10.0.0.7")};
        assertThat(fetcher(false, mixed).keys("https://keys.example/jwks")).isEmpty();
    }

    @Test
    void internalAddressesAreRefusedAndPublicOnesAllowed() throws Exception {
        for (String internal : List.of("127.0.0.1", "127.8.8.8", "::1", "0.0.0.0", "::", "10.1.2.3", "172.16.0.1",
                "172.31.255.255", "192.168.0.1", "169.254.169.254", "fe80::1", "fd00:ec2::254", "fc00::1", "fec0::1",
                "100.64.0.1", "100.100.100.200", "192.0.0.192", "198.18.0.1", "224.0.0.1", "ff02::1", "240.0.0.1",
                "255.255.255.255", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::10.0.0.1", "64:ff9b::a9fe:a9fe",
                "2002:7f00:1::1", "2002:a9fe:a9fe::", "2001:0:4136:e378::1", "2001:db8::1", "168.63.129.16",
                "192.88.99.1", "64:ff9b:1::a9fe:a9fe", "64:ff9b:1::808:808", "64:ff9b:0:1::808:808",
                "::ffff:0:a9fe:a9fe", "::ffff:0:a00:1", "::ffff:0:7f00:1")) {
            assertThat(JwksFetcher.reachable(InetAddress.getByName(internal), false)).as(internal).isFalse();
        }
        for (String loopback : List.of("127.0.0.1", "::1")) {
            assertThat(JwksFetcher.reachable(InetAddress.getByName(loopback), true)).as(loopback).isTrue();
        }
        assertThat(JwksFetcher.reachable(InetAddress.getByName("10.0.0.1"), true)).as("only loopback is allowed")
                .isFalse();
        for (String external : List.of("8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111",
                "64:ff9b::808:808", "168.63.129.17", "::ffff:0:808:808")) {
            assertThat(JwksFetcher.reachable(InetAddress.getByName(external), false)).as(external).isTrue();
        }
    }

    @Test
    void ipv4MappedIpv6AddressesAreJudgedByTheIpv4AddressTheyCarry() throws Exception {
        // InetAddress.getByName("::ffff:127.0.0.1") gives an Inet4Address: built by hand, they stay IPv6.
        for (String internal : List.of("127.0.0.1", "169.254.169.254", "10.0.0.1", "168.63.129.16", "100.64.0.1")) {
            InetAddress mapped = mapped(internal);
            assertThat(mapped).isInstanceOf(java.net.Inet6Address.class);
            assertThat(JwksFetcher.reachable(mapped, false)).as("::ffff:" + internal).isFalse();
        }
        assertThat(JwksFetcher.reachable(mapped("127.0.0.1"), true)).as("mapped loopback, when allowed").isTrue();
        assertThat(JwksFetcher.reachable(mapped("8.8.8.8"), false)).as("::ffff:8.8.8.8").isTrue();
    }

    private static InetAddress mapped(String ipv4) throws Exception {
        byte[] v4 = InetAddress.getByName(ipv4).getAddress();
        byte[] v6 = new byte[16];
        v6[10] = (byte) 0xff;
        v6[11] = (byte) 0xff;
        System.arraycopy(v4, 0, v6, 12, 4);
        return java.net.Inet6Address.getByAddress(null, v6, -1);
    }

    @Test
    void aRedirectIsNotFollowed() throws Exception {
        int before = server.hits("/jwks");
        assertThat(fetcher(true, InetAddress::getAllByName).keys(server.url("/redirect"))).isEmpty();
        assertThat(server.hits("/redirect")).isPositive();
        assertThat(server.hits("/jwks")).isEqualTo(before);
    }

    @Test
    void aResponseOverTheSizeCapIsRefused() throws Exception {
        assertThat(fetcher(true, InetAddress::getAllByName).keys(server.url("/huge"))).isEmpty();
    }

    @Test
    void aServerThatDripsBytesIsCutOffAtTheOverallDeadline() throws Exception {
        long start = System.nanoTime();
        assertThat(fetcher(true, InetAddress::getAllByName).keys(server.url("/drip"))).isEmpty();
        // The socket timeout (3 s) never fires: a byte comes every 300 ms; only the deadline ends it.
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - start))
                .isLessThan(JwksFetcher.DEADLINE.plusSeconds(2));
    }

    @Test
    void aFailingUrlIsNotFetchedAgainWhileItsFailureIsRemembered() throws Exception {
        JwksFetcher fetcher = fetcher(true, InetAddress::getAllByName);
        for (int i = 0; i < 5; i++) {
            assertThat(fetcher.keys(server.url("/fail"))).isEmpty();
        }
        assertThat(server.hits("/fail")).isEqualTo(1);
    }

    @Test
    void plainHttpAndUserInfoAreRefusedWithoutAConnection() throws Exception {
        AtomicInteger lookups = new AtomicInteger();
        JwksFetcher fetcher = fetcher(true, host -> {
            lookups.incrementAndGet();
            return InetAddress.getAllByName(host);
        });
        assertThat(fetcher.keys(server.url("/jwks").replace("https:", "http:"))).isEmpty();
        assertThat(fetcher.keys(server.url("/jwks").replace("https://", "https://user:pw@"))).isEmpty();
        assertThat(lookups).hasValue(0);
    }

    @Test
    void keysBelowTheFloorAreDropped() throws Exception {
        ECKey p256 = new ECKeyGenerator(Curve.P_256).keyID("weak").generate();
        ECKey good = new ECKeyGenerator(Curve.P_384).keyID("good").generate();
        try (LocalJwksServer mixed = new LocalJwksServer(tls)) {
            mixed.serve(new JWKSet(List.<JWK>of(p256.toPublicJWK(), good.toPublicJWK())).toString());
            assertThat(fetcher(true, InetAddress::getAllByName).keys(mixed.url("/jwks")).orElseThrow()).extracting(JWK::getKeyID)
                    .containsExactly("good");
        }
    }
}
