package health.carapace.telehealth;

import health.carapace.testing.TestInstallation;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * A relay between visit pages and the real server, standing where a malicious signaling server
 * or a tap on its path would: pages load from it over plain HTTP on loopback (a secure context
 * for WebCrypto), and their signaling socket is carried to Carapace's wss endpoint through it.
 * Every message the server sends to a page passes {@link #tamper} first and is kept in
 * {@link #transcript}. Hand-written HTTP and WebSocket framing: enough for one browser, no more.
 */
final class SignalingRelay implements AutoCloseable {

    /** Everything the server sent the pages, as the relay saw it. */
    final List<String> transcript = new CopyOnWriteArrayList<>();
    private final String upstream;
    private final ServerSocket listener;
    private final HttpClient http;
    private final UnaryOperator<String> tamper;

    SignalingRelay(String upstream, UnaryOperator<String> tamper) throws IOException {
        this.upstream = upstream;
        this.tamper = tamper;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.http = HttpClient.newBuilder().sslContext(TestInstallation.trustingSslContext(TestInstallation.dataDir())).build();
        Thread acceptor = new Thread(this::accept, "signaling-relay");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    String base() {
        return "http://localhost:" + listener.getLocalPort();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket socket = listener.accept();
                Thread connection = new Thread(() -> serve(socket), "signaling-relay-connection");
                connection.setDaemon(true);
                connection.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = socket.getInputStream();
            String head = readHead(in);
            String[] lines = head.split("\r\n");
            String path = lines[0].split(" ")[1];
            String key = header(lines, "sec-websocket-key");
            if (key != null) {
                relaySocket(socket, in, key);
                return;
            }
            HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(URI.create(upstream + path)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            StringBuilder out = new StringBuilder("HTTP/1.1 " + response.statusCode() + " X\r\n");
            for (String name : List.of("content-type", "content-security-policy", "cache-control")) {
                response.headers().firstValue(name).ifPresent(v -> out.append(name).append(": ").append(v).append("\r\n"));
            }
            out.append("content-length: ").append(response.body().length).append("\r\nconnection: close\r\n\r\n");
            socket.getOutputStream().write(out.toString().getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().write(response.body());
        } catch (Exception e) {
            // the page sees a closed connection; the test sees its counters
        }
    }

    private void relaySocket(Socket socket, InputStream in, String key) throws Exception {
        OutputStream out = socket.getOutputStream();
        String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
        out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        WebSocket server = http.newWebSocketBuilder().header("Origin", upstream)
                .buildAsync(URI.create(upstream.replace("https://", "wss://") + "/telehealth/signal"), new WebSocket.Listener() {
                    private final StringBuilder partial = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        partial.append(data);
                        if (last) {
                            String message = tamper.apply(partial.toString());
                            transcript.add(message);
                            partial.setLength(0);
                            writeFrame(out, 0x1, message.getBytes(StandardCharsets.UTF_8));
                        }
                        webSocket.request(1);
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                        writeFrame(out, 0x8, new byte[] {(byte) (statusCode >> 8), (byte) statusCode});
                        return null;
                    }
                }).join();
        while (true) {
            int b0 = in.read();
            int b1 = in.read();
            if (b0 < 0 || b1 < 0) {
                break;
            }
            long length = b1 & 0x7f;
            if (length == 126) {
                length = (in.read() << 8) | in.read();
            } else if (length == 127) {
                length = 0;
                for (int i = 0; i < 8; i++) {
                    length = (length << 8) | in.read();
                }
            }
            byte[] mask = in.readNBytes(4);
            byte[] payload = in.readNBytes((int) length);
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= mask[i % 4];
            }
            int opcode = b0 & 0x0f;
            if (opcode == 0x8) {
                server.sendClose(WebSocket.NORMAL_CLOSURE, "").join();
                break;
            }
            if (opcode == 0x1) {
                server.sendText(new String(payload, StandardCharsets.UTF_8), true).join();
            }
        }
    }

    private static synchronized void writeFrame(OutputStream out, int opcode, byte[] payload) {
        try {
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            frame.write(0x80 | opcode);
            if (payload.length < 126) {
                frame.write(payload.length);
            } else {
                frame.write(126);
                frame.write(payload.length >> 8);
                frame.write(payload.length & 0xff);
            }
            frame.write(payload);
            out.write(frame.toByteArray());
            out.flush();
        } catch (IOException e) {
            // the page went away
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed");
            }
            head.write(b);
            matched = (b == '\r' || b == '\n') && (matched % 2 == 0 ? b == '\r' : b == '\n') ? matched + 1 : 0;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static String header(String[] lines, String name) {
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
