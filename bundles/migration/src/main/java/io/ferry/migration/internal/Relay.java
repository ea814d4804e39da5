package io.ferry.migration.internal;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
 * The source side of a migration's transport: a listener on this machine that a local party
 * connects to, each of its connections carried to the target agent in a channel of its own, so
 * that nothing of the migration leaves this machine outside TLS. Two kinds, open for one migration
 * and then closed:
 * <ul>
 * <li>{@link #libvirt}: the source libvirtd's connection to the target's daemon (loopback TCP,
 * {@code qemu+tcp://127.0.0.1:port/system}), carried to {@link LibvirtTunnelHandler}; in a tunnelled
 * migration it carries the VM state too;</li>
 * <li>{@link #stream}: QEMU's own migration stream (a UNIX socket), carried to
 * {@link QemuStreamHandler}, each channel beginning with the session id so the target joins it to that
 * migration's incoming QEMU.</li>
 * </ul>
 */
public final class Relay implements Closeable {

    private final AgentChannels channels;
    private final AgentAddress target;
    private final Duration timeout;
    private final String purpose;
    /** What each channel begins with, before the relayed bytes. */
    private final byte[] preamble;
    private final ServerSocketChannel listener;
    private final int port;
    private final Path socketFile;
    private final ExecutorService pipes;
    private final AtomicReference<ChannelException> failure = new AtomicReference<>();
    private final AtomicLong carried = new AtomicLong();
    /** Every connection the relay carries, closed with it: a closed relay carries nothing. */
    private final List<Closeable> open = new CopyOnWriteArrayList<>();
    /**
     * The channel for the first connection, opened as the relay opens: its TLS handshake (20-80 ms on a busy
     * machine) then runs while libvirt starts, not after its first connection came. libvirt's peer-to-peer
     * connection and QEMU's stream are one connection each.
     */
    private final CompletableFuture<Channel> ahead;

    private Relay(AgentChannels channels, AgentAddress target, Duration timeout, String purpose, byte[] preamble,
            ServerSocketChannel listener, int port, Path socketFile) {
        this.channels = channels;
        this.target = target;
        this.timeout = timeout;
        this.purpose = purpose;
        this.preamble = preamble;
        this.listener = listener;
        this.port = port;
        this.socketFile = socketFile;
        this.pipes = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "ferry-migration-relay-" + target.agentId());
            t.setDaemon(true);
            return t;
        });
        this.ahead = CompletableFuture.supplyAsync(this::openChannel, pipes);
        pipes.execute(this::acceptLoop);
    }

    /** A relay of libvirt's connection to the target's daemon: see {@link #libvirtUri()}. */
    public static Relay libvirt(AgentChannels channels, AgentAddress target, Duration timeout) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        try {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
            int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
            return new Relay(channels, target, timeout, LibvirtTunnelHandler.PURPOSE, new byte[0], listener, port,
                    null);
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
    }

    /**
     * A relay of QEMU's migration stream for one session: a UNIX socket at {@code socket} (created here,
     * removed at close) that the source's QEMU connects to.
     */
    public static Relay stream(AgentChannels channels, AgentAddress target, Duration timeout, Path socket,
            String session) throws IOException {
        Files.createDirectories(socket.getParent());
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            listener.bind(UnixDomainSocketAddress.of(socket), 8);
            // connecting needs write permission on the socket: this agent's user and the folder's group (QEMU's,
            // with the folder's setgid bit) only, so no other local user can feed the target a VM state
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
            return new Relay(channels, target, timeout, QemuStreamHandler.PURPOSE, QemuStreamHandler.preamble(session),
                    listener, -1, socket);
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
    }

    /** The libvirt URI that reaches the target's daemon through this relay. */
    public String libvirtUri() {
        if (port < 0) {
            throw new IllegalStateException("a stream relay has no libvirt URI");
        }
        return "qemu+tcp://127.0.0.1:" + port + "/system";
    }

    /** Bytes carried through channels so far, both ways: the migration's whole traffic. */
    public long bytesCarried() {
        return carried.get();
    }

    /**
     * The first channel failure while the relay was open: the target could not be reached through a
     * channel, or a channel broke (reset, cut) instead of ending cleanly.
     */
    public ChannelException failure() {
        return failure.get();
    }

    private void acceptLoop() {
        boolean first = true;
        while (listener.isOpen()) {
            SocketChannel local;
            try {
                local = listener.accept();
                if (port >= 0) {
                    local.setOption(StandardSocketOptions.TCP_NODELAY, true);
                }
            } catch (ClosedChannelException e) {
                return; // closed
            } catch (IOException e) {
                continue;
            }
            open.add(local);
            try {
                Channel channel;
                if (first) {
                    first = false;
                    channel = joinAhead();
                } else {
                    channel = openChannel();
                }
                Pipe.connect(Ends.of(local), Ends.of(channel), pipes, carried, e -> {
                    if (listener.isOpen()) {
                        failure.compareAndSet(null, failed("broke", e));
                    }
                });
            } catch (ChannelException e) {
                failure.compareAndSet(null, e);
                Flight.closeQuietly(local); // libvirt (or QEMU) sees the connection fail and aborts the migration
            }
        }
    }

    /** A channel to the target for one connection, its preamble written. */
    private Channel openChannel() {
        Channel channel = channels.open(target, purpose, timeout);
        open.add(channel);
        if (preamble.length > 0) {
            try {
                OutputStream out = channel.output();
                out.write(preamble);
                out.flush();
            } catch (IOException e) {
                throw failed("broke", e);
            }
        }
        return channel;
    }

    private Channel joinAhead() {
        try {
            return ahead.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof ChannelException c) {
                throw c;
            }
            throw failed("could not open", e.getCause());
        }
    }

    private ChannelException failed(String what, Throwable cause) {
        return new ChannelException("a tunnel channel to " + target + " (" + purpose + ") " + what + ": "
                + (cause instanceof IOException ? cause.getMessage() : cause), cause);
    }

    @Override
    public void close() throws IOException {
        listener.close();
        ahead.thenAccept(Flight::closeQuietly); // unused, or still opening: closed when it is open
        if (socketFile != null) {
            Files.deleteIfExists(socketFile);
        }
        open.forEach(Flight::closeQuietly); // closed by their peers already, some
        pipes.shutdownNow();
    }
}
