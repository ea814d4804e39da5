package io.ferry.itests.transport;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP forwarder between two agents that sees every byte on the wire, both ways, and searches
 * them for a marker (across read boundaries). What it sees is what anyone on the network sees. It
 * is also the network's faults: {@link #cut()} breaks every connection (and, while {@link #down},
 * refuses new ones), {@link #tamperAfter} flips one byte of the stream towards the target.
 */
public final class TcpTap implements Closeable {

    private final ServerSocket listener;
    private volatile int targetPort;
    /** While true, the link is down: new connections are closed at once. */
    volatile boolean down;
    /** Flip one byte of a connection's traffic towards the target once it has carried this many bytes; 0: never. */
    volatile long tamperAfter;
    volatile boolean tampered;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final AtomicLong bytes = new AtomicLong();
    final AtomicLong connections = new AtomicLong();
    final MarkerScan scan;

    public TcpTap(int targetPort, byte[] marker) throws IOException {
        this.targetPort = targetPort;
        this.scan = new MarkerScan(marker);
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "tcp-tap");
        t.setDaemon(true);
        t.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Points the tap at another port (the agent restarted on a new one). */
    void retarget(int port) {
        targetPort = port;
    }

    /** Breaks every open connection, as a pulled cable or a router's reset would. */
    void cut() {
        sockets.forEach(TcpTap::close);
        sockets.clear();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket in = listener.accept();
                if (down) {
                    close(in);
                    continue;
                }
                Socket out;
                try {
                    out = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                } catch (IOException e) {
                    close(in); // the agent is not there (killed): as a refused connection
                    continue;
                }
                in.setTcpNoDelay(true);
                out.setTcpNoDelay(true);
                sockets.add(in);
                sockets.add(out);
                connections.incrementAndGet();
                pump(in, out, true);
                pump(out, in, false);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, boolean towardsTarget) {
        Thread t = new Thread(() -> {
            MarkerScan.Stream stream = scan.stream();
            byte[] buffer = new byte[64 * 1024];
            long carried = 0;
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) != -1) {
                    stream.feed(buffer, 0, n);
                    bytes.addAndGet(n);
                    long limit = tamperAfter;
                    if (towardsTarget && limit > 0 && carried < limit && carried + n >= limit && !tampered) {
                        tampered = true;
                        buffer[(int) (limit - carried - 1)] ^= 0x01; // one bit of a TLS record
                    }
                    carried += n;
                    out.write(buffer, 0, n);
                }
            } catch (IOException ignored) {
                // either side went away
            } finally {
                close(from);
                close(to);
            }
        }, "tcp-tap-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        sockets.forEach(TcpTap::close);
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closed already
        }
    }
}
