package health.carapace.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A TCP link to a server that a test can cut (every open connection dropped, new ones refused)
 * and restore on the same port: a database made unreachable and brought back without stopping it,
 * as a network partition or a failed-over address does. Bytes pass through unchanged.
 */
public final class CuttableLink implements AutoCloseable {

    private final InetSocketAddress target;
    private final int port;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final ExecutorService threads = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "cuttable-link");
        thread.setDaemon(true);
        return thread;
    });
    private ServerSocket listening;

    private CuttableLink(InetSocketAddress target) throws IOException {
        this.target = target;
        this.listening = bind(0);
        this.port = listening.getLocalPort();
        accept(listening);
    }

    /** A link to {@code host:port}, open, listening on a free port of the loopback address. */
    public static CuttableLink to(String host, int port) {
        try {
            return new CuttableLink(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    /** Drops every connection and refuses new ones until {@link #restore()}. */
    public synchronized void cut() {
        closeQuietly(listening);
        open.forEach(CuttableLink::closeQuietly);
        open.clear();
    }

    /** Accepts connections again, on the same port. */
    public synchronized void restore() {
        try {
            listening = bind(port);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        accept(listening);
    }

    @Override
    public void close() {
        cut();
        threads.shutdownNow();
    }

    private static ServerSocket bind(int port) throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return socket;
    }

    private void accept(ServerSocket socket) {
        threads.execute(() -> {
            while (!socket.isClosed()) {
                try {
                    Socket client = socket.accept();
                    Socket upstream = new Socket(target.getHostString(), target.getPort());
                    open.add(client);
                    open.add(upstream);
                    threads.execute(() -> pump(client, upstream));
                    threads.execute(() -> pump(upstream, client));
                } catch (IOException closedOrRefused) {
                    // cut, or the target refused: the client sees its connection fail
                }
            }
        });
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16384];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException dropped) {
            // one side closed or the link was cut
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            open.remove(from);
            open.remove(to);
        }
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
