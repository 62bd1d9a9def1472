package health.carapace.telehealth;

import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A raw signaling connection, as any client (or attacker) would open one: the JDK's WebSocket,
 * with whatever Origin it is told to send. Collects what the server sends and how it closed.
 */
final class SignalClient implements AutoCloseable {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** How the server closed the connection. */
    record Closed(int code, String reason) {}

    final BlockingQueue<JsonNode> received = new LinkedBlockingQueue<>();
    /** When set, gets every message as it arrives instead of the queue (for timing, without a hand-off). */
    volatile java.util.function.Consumer<JsonNode> onMessage;
    final CompletableFuture<Closed> closed = new CompletableFuture<>();
    final WebSocket socket;

    private SignalClient(WebSocket socket) {
        this.socket = socket;
    }

    static SignalClient open(String base, String origin) {
        HttpClient http = HttpClient.newBuilder()
                .sslContext(TestInstallation.trustingSslContext(TestInstallation.dataDir())).build();
        Listener listener = new Listener();
        WebSocket socket = http.newWebSocketBuilder().header("Origin", origin).connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create(base.replace("https://", "wss://") + "/telehealth/signal"), listener).join();
        SignalClient client = new SignalClient(socket);
        listener.client = client;
        return client;
    }

    SignalClient send(String text) {
        socket.sendText(text, true).join();
        return this;
    }

    SignalClient send(Object... fields) {
        var node = JSON.createObjectNode();
        for (int i = 0; i < fields.length; i += 2) {
            Object value = fields[i + 1];
            if (value instanceof Number number) {
                node.put((String) fields[i], number.longValue());
            } else {
                node.put((String) fields[i], (String) value);
            }
        }
        return send(JSON.writeValueAsString(node));
    }

    /** The next message the server sends, within 10 seconds. */
    JsonNode next() {
        try {
            JsonNode message = received.poll(10, TimeUnit.SECONDS);
            if (message == null) {
                throw new AssertionError("no signaling message within 10 s (closed: " + closed.getNow(null) + ")");
            }
            return message;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The next message of this type (others before it are skipped). */
    JsonNode next(String type) {
        while (true) {
            JsonNode message = next();
            if (message.get("type").stringValue().equals(type)) {
                return message;
            }
        }
    }

    Closed closedWithin10s() {
        return closedWithin(10);
    }

    Closed closedWithin(int seconds) {
        return closed.orTimeout(seconds, TimeUnit.SECONDS).join();
    }

    @Override
    public void close() {
        if (!socket.isOutputClosed()) {
            socket.sendClose(1000, "").exceptionally(e -> null);
        }
    }

    private static final class Listener implements WebSocket.Listener {
        volatile SignalClient client;
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                JsonNode message = JSON.readTree(partial.toString());
                var consumer = client.onMessage;
                if (consumer != null) {
                    consumer.accept(message);
                } else {
                    client.received.add(message);
                }
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            client.closed.complete(new Closed(statusCode, reason));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            client.closed.complete(new Closed(1006, "error"));
        }
    }
}
