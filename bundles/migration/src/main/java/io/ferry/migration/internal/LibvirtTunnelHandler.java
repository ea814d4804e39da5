package io.ferry.migration.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Logger;

import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelHandler;

/**
 * The target side of a migration's transport: a channel opened for {@value #PURPOSE} is joined
 * to this device's libvirt daemon, so the source's libvirtd talks to ours only through the
 * authenticated, encrypted channel. In the agent, {@link SecureMigrations} registers it with a
 * {@link TunnelGate}: only the source of an accepted migrate-in gets through, and only while
 * that migration lasts. Without a gate (transport tests and benchmarks) every channel is joined.
 */
public final class LibvirtTunnelHandler implements ChannelHandler {

    public static final String PURPOSE = "libvirt-migration";
    private static final Logger LOG = Logger.getLogger(LibvirtTunnelHandler.class.getName());

    private final InetSocketAddress libvirt;
    private final TunnelGate gate;
    private final ExecutorService pipes = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "ferry-migration-tunnel");
        t.setDaemon(true);
        return t;
    });

    /** A handler that joins every channel of its purpose to libvirtd: for transport tests only. */
    public LibvirtTunnelHandler(InetSocketAddress libvirt) {
        this(libvirt, null);
    }

    LibvirtTunnelHandler(InetSocketAddress libvirt, TunnelGate gate) {
        this.libvirt = libvirt;
        this.gate = gate;
    }

    public void close() {
        pipes.shutdownNow();
    }

    @Override
    public void accept(Channel channel) throws IOException {
        TunnelGate.Session session = null;
        if (gate != null) {
            session = gate.admit(channel);
            if (session == null) {
                LOG.warning("libvirt migration tunnel from agent " + channel.peerAgentId()
                        + " refused: no migrate-in from that agent, with that certificate, is in progress");
                return; // the channel server closes the channel
            }
        }
        SocketChannel daemon = SocketChannel.open();
        if (session != null) {
            session.add(daemon);
        }
        try {
            daemon.setOption(StandardSocketOptions.TCP_NODELAY, true);
            daemon.socket().connect(libvirt, 10_000); // through the socket: a socket channel has no connect timeout
        } catch (IOException e) {
            daemon.close();
            throw e;
        }
        LOG.info("libvirt migration tunnel from agent " + channel.peerAgentId() + " to " + libvirt);
        Pipe.carry(Ends.of(channel), Ends.of(daemon), pipes);
    }

    static InetSocketAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("libvirt.address must be host:port, not '" + hostPort + "'");
        }
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
