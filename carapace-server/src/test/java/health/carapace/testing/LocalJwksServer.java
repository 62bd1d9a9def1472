package health.carapace.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * An HTTPS server on loopback that answers a backend client's JWKS URL, and misbehaves on demand:
 * {@code /jwks} (the key set), {@code /redirect} (302 to {@code /jwks}), {@code /huge} (too big),
 * {@code /drip} (a byte every 300 ms, never done), {@code /fail} (500). It presents a start-dev
 * certificate (localhost, 127.0.0.1) from {@code tlsDir}; requests are counted per path.
 */
public final class LocalJwksServer implements AutoCloseable {

    private final HttpsServer server;
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private volatile String jwks = "{\"keys\":[]}";

    public LocalJwksServer(Path tlsDir) throws Exception {
        this(tlsDir, InetAddress.getLoopbackAddress());
    }

    /** A server listening on {@code address} only (another loopback address than the name localhost's). */
    public LocalJwksServer(Path tlsDir, InetAddress address) throws Exception {
        char[] password = Files.readString(tlsDir.resolve("server.p12.password")).trim().toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(tlsDir.resolve("server.p12"))) {
            keys.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        server = HttpsServer.create(new InetSocketAddress(address, 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "local-jwks");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::answer);
        server.start();
    }

    /** The key set {@code /jwks} serves from now on. */
    public void serve(String jwks) {
        this.jwks = jwks;
    }

    public String url(String path) {
        return "https://localhost:" + server.getAddress().getPort() + path;
    }

    public int hits(String path) {
        return hits.computeIfAbsent(path, p -> new AtomicInteger()).get();
    }

    private void answer(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        try (exchange) {
            switch (path) {
                case "/jwks" -> send(exchange, 200, jwks.getBytes(StandardCharsets.UTF_8));
                case "/redirect" -> {
                    exchange.getResponseHeaders().add("Location", url("/jwks"));
                    send(exchange, 302, new byte[0]);
                }
                case "/huge" -> send(exchange, 200, ("{\"keys\":[" + " ".repeat(200_000) + "]}").getBytes(StandardCharsets.UTF_8));
                case "/drip" -> {
                    exchange.sendResponseHeaders(200, 0);
                    OutputStream out = exchange.getResponseBody();
                    for (int i = 0; i < 100; i++) {
                        out.write(' ');
                        out.flush();
                        Thread.sleep(300);
                    }
                }
                default -> send(exchange, 500, new byte[0]);
            }
        } catch (InterruptedException | IOException stopped) {
            // the client hung up (as it should on /drip) or the server is closing
        }
    }

    private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            exchange.getResponseBody().write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
