package io.ferry.migration.internal;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelException;

/**
 * The source side of a migration's transport: a listener on this machine's loopback that the
 * source libvirtd is pointed at (qemu+tcp://127.0.0.1:port/system, peer-to-peer tunnelled), each
 * of its connections carried to the target agent in a channel of its own. libvirt's tunnelled
 * migration sends the whole VM state over that libvirt connection, so no VM byte leaves this
 * machine outside TLS. Open for one migration, then closed.
 */
public final class LibvirtRelay implements Closeable {

    private final AgentChannels channels;
    private final AgentAddress target;
    private final Duration timeout;
    private final ServerSocket listener;
    private final ExecutorService pipes;
    private final AtomicReference<ChannelException> failure = new AtomicReference<>();
    private final AtomicLong carried = new AtomicLong();
    /** Every connection the relay carries, closed with it: a closed relay carries nothing. */
    private final List<Closeable> open = new CopyOnWriteArrayList<>();

    public LibvirtRelay(AgentChannels channels, AgentAddress target, Duration timeout) throws IOException {
        this.channels = channels;
        this.target = target;
        this.timeout = timeout;
        this.listener = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        this.pipes = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "ferry-migration-relay-" + target.agentId());
            t.setDaemon(true);
            return t;
        });
        pipes.execute(this::acceptLoop);
    }

    /** The libvirt URI that reaches the target's daemon through this relay. */
    public String libvirtUri() {
        return "qemu+tcp://127.0.0.1:" + listener.getLocalPort() + "/system";
    }

    /** Bytes carried through channels so far, both ways: the migration's whole traffic. */
    public long bytesCarried() {
        return carried.get();
    }

    /**
     * The first channel failure while the relay was open: the target could not be reached through a
     * channel, or a tunnel channel broke (reset, cut) instead of ending cleanly.
     */
    public ChannelException failure() {
        return failure.get();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket local;
            try {
                local = listener.accept();
                local.setTcpNoDelay(true);
            } catch (SocketException e) {
                return; // closed
            } catch (IOException e) {
                continue;
            }
            try {
                open.add(local);
                Channel channel = channels.open(target, LibvirtTunnelHandler.PURPOSE, timeout);
                open.add(channel);
                Pipe.connect(Ends.of(local), Ends.of(channel), pipes, carried, e -> {
                    if (!listener.isClosed()) {
                        failure.compareAndSet(null, new ChannelException("a tunnel channel to " + target
                                + " broke: " + e.getMessage(), e));
                    }
                });
            } catch (ChannelException e) {
                failure.compareAndSet(null, e);
                try {
                    local.close(); // libvirt sees the connection fail and aborts the migration
                } catch (IOException ignored) {
                    // nothing more to do
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Closeable c : open) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closed by its peer already
            }
        }
        pipes.shutdownNow();
    }
}
