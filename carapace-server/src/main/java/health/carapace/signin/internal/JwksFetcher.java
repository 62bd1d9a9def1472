package health.carapace.signin.internal;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.LoadingCache;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.ClientTlsStrategyBuilder;
import org.apache.hc.core5.http.ssl.TLS;
import org.apache.hc.core5.util.Timeout;

/**
 * Fetches the JWKS of a backend client registered with a JWKS URL (review F7: the URL is chosen by
 * whoever registered the client, and the server fetches it from inside the network).
 * <ul>
 * <li>{@code https} only, no user info, no redirect followed (a 3xx is a failure);</li>
 * <li>the host is looked up <em>once</em>, within the deadline (on a small pool of its own, so a
 * name server that never answers holds no request thread past it); if any of its addresses is
 * loopback, link-local (cloud metadata at 169.254.169.254), private (site-local, unique-local,
 * carrier-grade NAT, where 100.100.100.200 lives), Azure's WireServer (168.63.129.16), multicast,
 * unspecified or reserved, the URL is refused (IPv6 forms that carry an IPv4 address are judged by
 * it; a local-use NAT64 prefix is refused whole); otherwise the
 * connection goes to exactly those addresses ({@link DnsResolver}), so a second answer from DNS
 * (rebinding) is never asked for. Loopback is allowed only with
 * {@code carapace.smart.jwks-allow-loopback}, which start-dev and the tests set and
 * {@code start} refuses ({@link JwksReadiness});</li>
 * <li>one deadline for the whole fetch (connect, TLS, headers, body), a response-size cap;</li>
 * <li>a key set is kept {@link #KEEP_KEYS}; a failure is remembered {@link #KEEP_FAILURE}, so a
 * failing URL is not fetched on every assertion. Concurrent assertions for one URL share one fetch.</li>
 * </ul>
 * Keys below the floor are dropped ({@link PrivateKeyJwtClients#floorProblem}).
 */
final class JwksFetcher {

    static final Duration KEEP_KEYS = Duration.ofMinutes(5);
    static final Duration KEEP_FAILURE = Duration.ofMinutes(1);
    static final Duration DEADLINE = Duration.ofSeconds(3);
    static final int MAX_BYTES = 64 * 1024;

    /** Looks a host name up; the JDK's resolver in the server, a fixed answer in tests. */
    interface NameLookup {
        InetAddress[] addresses(String host) throws UnknownHostException;
    }

    /** What a fetch gave: the usable keys, or nothing (refused, unreachable, malformed). */
    record Fetched(Optional<JWKSet> keys) {}

    /**
     * Where host names are looked up: a lookup that hangs (a lapsed domain, a name server that never
     * answers) is abandoned at the deadline and holds one of these threads, not a request's.
     */
    private static final ExecutorService LOOKUPS = lookups();

    private final boolean loopbackAllowed;
    private final NameLookup lookup;
    private final CloseableHttpClient http;
    private final LoadingCache<String, Fetched> cache;

    JwksFetcher(boolean loopbackAllowed, SSLContext tls, NameLookup lookup) {
        this.loopbackAllowed = loopbackAllowed;
        this.lookup = lookup;
        Timeout step = Timeout.of(DEADLINE);
        this.http = HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setDnsResolver(new CheckedAddresses())
                        .setTlsSocketStrategy(ClientTlsStrategyBuilder.create().setSslContext(tls)
                                .setTlsVersions(TLS.V_1_3, TLS.V_1_2).buildClassic())
                        .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(step)
                                .setSocketTimeout(step).build())
                        .setMaxConnTotal(20).setMaxConnPerRoute(2)
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom().setRedirectsEnabled(false).setResponseTimeout(step)
                        .setConnectionRequestTimeout(step).build())
                .disableRedirectHandling()
                .disableAutomaticRetries()
                .disableCookieManagement()
                .disableAuthCaching()
                .disableContentCompression()
                .build();
        this.cache = Caffeine.newBuilder().maximumSize(1_000).expireAfter(new Expiry<String, Fetched>() {
            @Override
            public long expireAfterCreate(String url, Fetched fetched, long now) {
                return (fetched.keys().isPresent() ? KEEP_KEYS : KEEP_FAILURE).toNanos();
            }

            @Override
            public long expireAfterUpdate(String url, Fetched fetched, long now, long current) {
                return expireAfterCreate(url, fetched, now);
            }

            @Override
            public long expireAfterRead(String url, Fetched fetched, long now, long current) {
                return current;
            }
        }).build(this::fetchNow);
    }

    /**
     * The TLS context JWKS servers are verified with: the JDK's trust store, or, when
     * {@code carapace.smart.jwks-trust-store} names a PKCS#12 file, every certificate in it (a
     * private CA; the tests trust their own server certificate this way). Host names are checked.
     */
    static SSLContext trusting(String trustStore, String password) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            if (trustStore == null || trustStore.isBlank()) {
                context.init(null, null, null);
                return context;
            }
            java.security.KeyStore file = java.security.KeyStore.getInstance("PKCS12");
            try (InputStream in = java.nio.file.Files.newInputStream(java.nio.file.Path.of(trustStore))) {
                file.load(in, password.toCharArray());
            }
            java.security.KeyStore trusted = java.security.KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            for (String alias : java.util.Collections.list(file.aliases())) {
                if (file.getCertificate(alias) != null) {
                    trusted.setCertificateEntry(alias, file.getCertificate(alias));
                }
            }
            javax.net.ssl.TrustManagerFactory trust = javax.net.ssl.TrustManagerFactory
                    .getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (java.security.GeneralSecurityException | IOException e) {
            throw new IllegalStateException("the JWKS trust store (carapace.smart.jwks-trust-store) cannot be loaded");
        }
    }

    /**
     * The usable keys at {@code url}, from the cache or fetched now; empty when the URL could not
     * be fetched (refused, unreachable, too slow, malformed), which says nothing about an assertion.
     */
    Optional<List<JWK>> keys(String url) {
        return cache.get(url).keys().map(JWKSet::getKeys);
    }

    private Fetched fetchNow(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException malformed) {
            return new Fetched(Optional.empty());
        }
        if (!"https".equals(uri.getScheme()) || uri.getRawUserInfo() != null || uri.getHost() == null) {
            return new Fetched(Optional.empty());
        }
        HttpGet get = new HttpGet(uri);
        get.setHeader("Accept", "application/jwk-set+json, application/json");
        // One deadline for all of it: a server that drips bytes under the socket timeout is cut off
        // here. The cancel runs on the delay scheduler's own thread, not on the common pool, which a
        // busy 2-core host may hold up.
        CompletableFuture.delayedExecutor(DEADLINE.toMillis(), TimeUnit.MILLISECONDS, Runnable::run).execute(get::cancel);
        try {
            String body = http.execute(get, response -> {
                if (response.getCode() != 200 || response.getEntity() == null) {
                    return null;
                }
                try (InputStream in = response.getEntity().getContent()) {
                    byte[] bytes = in.readNBytes(MAX_BYTES + 1);
                    return bytes.length > MAX_BYTES ? null : new String(bytes, StandardCharsets.UTF_8);
                }
            });
            if (body == null) {
                return new Fetched(Optional.empty());
            }
            List<JWK> kept = new ArrayList<>();
            for (JWK key : JWKSet.parse(body).getKeys()) {
                if (PrivateKeyJwtClients.floorProblem(new JWKSet(key)).isEmpty()) {
                    kept.add(key);
                }
            }
            return new Fetched(Optional.of(new JWKSet(kept)));
        } catch (IOException | ParseException | UncheckedIOException | IllegalStateException unusable) {
            // Refused address, timeout, cancelled at the deadline, TLS failure, malformed JWKS: all the same.
            return new Fetched(Optional.empty());
        } finally {
            get.cancel();
        }
    }

    /** The one lookup of a fetch: every address checked, and the connection made to these only. */
    private final class CheckedAddresses implements DnsResolver {
        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            InetAddress[] addresses = lookedUpInTime(host);
            if (addresses.length == 0 || !Arrays.stream(addresses).allMatch(a -> reachable(a, loopbackAllowed))) {
                throw new UnknownHostException("address refused");
            }
            return addresses;
        }

        @Override
        public String resolveCanonicalHostname(String host) throws UnknownHostException {
            return host;
        }
    }

    /** The host's addresses, or a failure when the lookup fails or takes longer than the deadline. */
    private InetAddress[] lookedUpInTime(String host) throws UnknownHostException {
        CompletableFuture<InetAddress[]> answer;
        try {
            answer = CompletableFuture.supplyAsync(() -> {
                try {
                    return lookup.addresses(host);
                } catch (UnknownHostException unknown) {
                    throw new UncheckedIOException(unknown);
                }
            }, LOOKUPS);
        } catch (RejectedExecutionException busy) {
            throw new UnknownHostException("no lookup thread free");
        }
        try {
            return answer.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException failed) {
            answer.cancel(true);
            throw new UnknownHostException("lookup failed or timed out");
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new UnknownHostException("lookup interrupted");
        }
    }

    private static ExecutorService lookups() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(4, 4, 1, TimeUnit.MINUTES, new ArrayBlockingQueue<>(64),
                task -> {
                    Thread thread = new Thread(task, "jwks-lookup");
                    thread.setDaemon(true);
                    return thread;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /**
     * Whether a JWKS may be fetched from this address: a public unicast address, or loopback when
     * allowed. IPv6 forms that carry an IPv4 address (compatible, NAT64, 6to4) are judged by it.
     */
    static boolean reachable(InetAddress address, boolean loopbackAllowed) {
        if (address.isLoopbackAddress()) {
            return loopbackAllowed;
        }
        if (address.isAnyLocalAddress() || address.isLinkLocalAddress() || address.isSiteLocalAddress()
                || address.isMulticastAddress()) {
            return false;
        }
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            return first != 0 // "this network"
                    && !(first == 100 && (second & 0xc0) == 64) // carrier-grade NAT, 100.64/10
                    && !(first == 168 && second == 63 && (b[2] & 0xff) == 129 && (b[3] & 0xff) == 16) // Azure WireServer
                    && !(first == 192 && second == 88 && (b[2] & 0xff) == 99) // 6to4 relay anycast, deprecated
                    && !(first == 192 && second == 0 && (b[2] & 0xff) == 0) // IETF protocol assignments
                    && !(first == 198 && (second & 0xfe) == 18) // benchmarking
                    && first < 240; // reserved and broadcast
        }
        if (!(address instanceof Inet6Address)) {
            return false;
        }
        if ((b[0] & 0xfe) == 0xfc) { // unique local fc00::/7 (cloud metadata fd00:ec2::254)
            return false;
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0) { // deprecated site-local fec0::/10
            return false;
        }
        if (allZero(b, 0, 12)) { // ::/96, IPv4-compatible (and :: and ::1, handled above)
            return embeddedV4(b, 12, loopbackAllowed);
        }
        if (allZero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) { // IPv4-mapped ::ffff:0:0/96
            return embeddedV4(b, 12, loopbackAllowed);
        }
        if (allZero(b, 0, 8) && (b[8] & 0xff) == 0xff && (b[9] & 0xff) == 0xff && allZero(b, 10, 12)) {
            return embeddedV4(b, 12, loopbackAllowed); // IPv4-translated (SIIT) ::ffff:0:0:0/96
        }
        if ((b[0] & 0xff) == 0x00 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b) {
            // NAT64: the well-known 64:ff9b::/96 is judged by the IPv4 address it carries; the rest of
            // 64:ff9b::/32, including the local-use 64:ff9b:1::/48 (RFC 8215), translates inside
            // someone's network with an embedding of its own choosing, and is refused whole.
            return allZero(b, 4, 12) && embeddedV4(b, 12, loopbackAllowed);
        }
        if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x02) { // 6to4 2002::/16
            return embeddedV4(b, 2, loopbackAllowed);
        }
        // Teredo 2001:0::/32 tunnels to an address it hides; documentation 2001:db8::/32.
        return !((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x01
                && ((b[2] == 0 && b[3] == 0) || ((b[2] & 0xff) == 0x0d && (b[3] & 0xff) == 0xb8)));
    }

    private static boolean embeddedV4(byte[] b, int from, boolean loopbackAllowed) {
        try {
            return reachable(InetAddress.getByAddress(Arrays.copyOfRange(b, from, from + 4)), loopbackAllowed);
        } catch (UnknownHostException impossible) {
            return false;
        }
    }

    private static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
