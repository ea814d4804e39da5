package io.ferry.migration.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Logger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;

import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelHandler;

/**
 * The target side of a migration's transport: a channel opened for {@value #PURPOSE} is joined
 * to this device's libvirt daemon, so the source's libvirtd talks to ours only through the
 * authenticated, encrypted channel.
 */
@Component(property = ChannelHandler.PURPOSE + "=" + LibvirtTunnelHandler.PURPOSE,
        configurationPid = "io.ferry.migration")
@Designate(ocd = MigrationConfig.class)
public final class LibvirtTunnelHandler implements ChannelHandler {

    public static final String PURPOSE = "libvirt-migration";
    private static final Logger LOG = Logger.getLogger(LibvirtTunnelHandler.class.getName());

    private final InetSocketAddress libvirt;
    private final ExecutorService pipes = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "ferry-migration-tunnel");
        t.setDaemon(true);
        return t;
    });

    @Activate
    public LibvirtTunnelHandler(MigrationConfig config) {
        this(parse(config.libvirt_address()));
    }

    public LibvirtTunnelHandler(InetSocketAddress libvirt) {
        this.libvirt = libvirt;
    }

    @Deactivate
    public void close() {
        pipes.shutdownNow();
    }

    @Override
    public void accept(Channel channel) throws IOException {
        Socket daemon = new Socket();
        daemon.setTcpNoDelay(true);
        daemon.connect(libvirt, 10_000);
        LOG.info("libvirt migration tunnel from agent " + channel.peerAgentId() + " to " + libvirt);
        // The channel server closes the channel when accept returns: wait for the pipe to finish.
        try {
            Pipe.connect(Ends.of(channel), Ends.of(daemon), pipes).get();
        } catch (InterruptedException e) {
            // the channel server is stopping; it closes the channel, which ends the pipe
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the pipe only ever completes normally", e);
        }
    }

    static InetSocketAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("libvirt.address must be host:port, not '" + hostPort + "'");
        }
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
