package health.carapace.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;

/**
 * A real HAProxy (the Debian package) in front of server nodes: TLS terminated with the test
 * installation's certificate and re-encrypted to each node (verified against that certificate),
 * HTTP mode, round-robin per request, no stickiness. Each response names the node that served
 * it ({@code X-Carapace-Node}), and {@link #requestsServed()} reads HAProxy's own counters.
 * Under {@code CI=true} a missing haproxy fails the test; elsewhere it is skipped.
 */
public final class HaproxyBalancer implements AutoCloseable {

    public static final String NODE_HEADER = "X-Carapace-Node";

    private final Path dir;
    private final int port;
    private final Process process;

    private HaproxyBalancer(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /** Starts HAProxy in front of the nodes named by their HTTPS ports on localhost. */
    public static HaproxyBalancer start(Path installation, Map<String, Integer> nodes) throws Exception {
        Path haproxy = Path.of("/usr/sbin/haproxy");
        if (!Files.isExecutable(haproxy)) {
            if ("true".equals(System.getenv("CI"))) {
                throw new IllegalStateException("haproxy is not installed (apt-get install haproxy)");
            }
            Assumptions.abort("haproxy is not installed");
        }
        Path dir = Files.createTempDirectory("carapace-balancer-");
        Path tls = installation.resolve("tls");
        char[] password = Files.readString(tls.resolve("server.p12.password")).trim().toCharArray();
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(tls.resolve("server.p12"))) {
            keyStore.load(in, password);
        }
        Key key = keyStore.getKey("carapace", password);
        Certificate certificate = keyStore.getCertificate("carapace");
        String certificatePem = pem("CERTIFICATE", certificate.getEncoded());
        Path frontend = dir.resolve("balancer.pem");
        Files.writeString(frontend, certificatePem + pem("PRIVATE KEY", key.getEncoded()));
        Path trusted = dir.resolve("nodes-ca.pem");
        Files.writeString(trusted, certificatePem);
        int port = freePort();
        StringBuilder config = new StringBuilder("""
                global
                    maxconn 512
                    stats socket %s mode 600 level user
                defaults
                    mode http
                    timeout connect 5s
                    timeout client 120s
                    timeout server 120s
                    option forwardfor
                frontend carapace
                    bind 127.0.0.1:%d ssl crt %s
                    default_backend nodes
                backend nodes
                    balance roundrobin
                    http-response set-header %s %%s
                """.formatted(dir.resolve("stats.sock"), port, frontend, NODE_HEADER));
        nodes.forEach((name, nodePort) -> config.append("    server ").append(name).append(" 127.0.0.1:").append(nodePort)
                .append(" ssl verify required ca-file ").append(trusted)
                .append(" sni str(localhost) verifyhost localhost\n"));
        Path configFile = dir.resolve("haproxy.cfg");
        Files.writeString(configFile, config);
        Process process = new ProcessBuilder(haproxy.toString(), "-db", "-f", configFile.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        HaproxyBalancer balancer = new HaproxyBalancer(dir, port, process);
        Awaitility.await("haproxy listening").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("haproxy exited: " + Files.readString(dir.resolve("haproxy.log")));
                    }
                    try (Socket socket = new Socket()) {
                        socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
                        return true;
                    } catch (IOException notYet) {
                        return false;
                    }
                });
        return balancer;
    }

    public String base() {
        return "https://localhost:" + port;
    }

    /** Requests each node has been sent through the balancer so far (HAProxy's {@code stot}). */
    public Map<String, Long> requestsServed() throws IOException {
        String csv;
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(dir.resolve("stats.sock")));
            channel.write(ByteBuffer.wrap("show stat\n".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            StringBuilder text = new StringBuilder();
            while (channel.read(buffer) > 0) {
                buffer.flip();
                text.append(StandardCharsets.US_ASCII.decode(buffer));
                buffer.clear();
            }
            csv = text.toString();
        }
        List<String> lines = csv.lines().toList();
        List<String> header = List.of(lines.get(0).replaceFirst("^# ", "").split(","));
        int name = header.indexOf("svname");
        int total = header.indexOf("stot");
        Map<String, Long> served = new LinkedHashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] fields = line.split(",", -1);
            if (fields.length > total && fields[0].equals("nodes") && !fields[name].equals("BACKEND")) {
                served.put(fields[name], Long.parseLong(fields[total]));
            }
        }
        return served;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        process.waitFor();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }
}
