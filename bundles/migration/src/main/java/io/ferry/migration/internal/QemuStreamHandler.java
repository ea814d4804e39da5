package io.ferry.migration.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Logger;

import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelHandler;

/**
 * The target side of QEMU's migration stream: a channel opened for {@value #PURPOSE} names its
 * session in its first line and is joined to the UNIX socket on which this device's incoming QEMU
 * of that session listens ({@link #socketName}, in the folder as this agent sees it). Only a session
 * the {@link TunnelGate} holds open for that very peer and certificate gets through: an accepted
 * migrate-in, until it ends.
 */
public final class QemuStreamHandler implements ChannelHandler {

    public static final String PURPOSE = "qemu-migration-stream";
    private static final Logger LOG = Logger.getLogger(QemuStreamHandler.class.getName());
    /** A session id (32 hex digits) and a newline. */
    private static final int PREAMBLE_LENGTH = 33;

    private final Path folder;
    private final TunnelGate gate;
    private final ExecutorService pipes = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "ferry-migration-stream");
        t.setDaemon(true);
        return t;
    });

    QemuStreamHandler(Path folder, TunnelGate gate) {
        this.folder = folder;
        this.gate = gate;
    }

    /** The socket file of a session's stream, the same name on both sides. */
    static String socketName(String session) {
        if (!Wire.isSession(session)) {
            throw new IllegalArgumentException("not a session id: " + session);
        }
        return session + ".sock";
    }

    /** What a stream channel begins with. */
    static byte[] preamble(String session) {
        socketName(session); // checks it
        return (session + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    public void close() {
        pipes.shutdownNow();
    }

    @Override
    public void accept(Channel channel) throws IOException {
        // refuse strangers before reading anything from them
        if (!gate.expects(channel)) {
            LOG.warning("QEMU stream from agent " + channel.peerAgentId()
                    + " refused: no migrate-in from that agent, with that certificate, is in progress");
            return; // the channel server closes the channel
        }
        String session = readSession(channel.input());
        TunnelGate.Session admitted = session == null ? null : gate.admit(channel, session);
        if (admitted == null) {
            LOG.warning("QEMU stream from agent " + channel.peerAgentId() + " refused: "
                    + (session == null ? "it did not begin with a session id" : "session " + session
                            + " is no migrate-in of that agent in progress"));
            return;
        }
        // The source opens its stream channel ahead, before libvirt's Prepare started our incoming QEMU: its
        // first byte of VM state comes only once its QEMU connected, which is after that Prepare
        int first = channel.input().read();
        if (first < 0) {
            return; // the source's relay closed without a stream (the migration ended before QEMU connected)
        }
        Path socket = folder.resolve(socketName(session));
        SocketChannel qemu = SocketChannel.open(StandardProtocolFamily.UNIX);
        admitted.add(qemu);
        try {
            qemu.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            // libvirt's Prepare did not start an incoming QEMU there (or it has gone): the source's QEMU sees
            // its connection closed and fails the job
            LOG.warning("QEMU stream of session " + session + " from agent " + channel.peerAgentId()
                    + ": no incoming QEMU listens at " + socket + " (" + e.getMessage() + ")");
            qemu.close();
            return;
        }
        LOG.fine("QEMU stream of session " + session + " from agent " + channel.peerAgentId() + " to " + socket);
        qemu.write(ByteBuffer.wrap(new byte[] {(byte) first}));
        Pipe.carry(Ends.of(channel), Ends.of(qemu), pipes);
    }

    /** The session id of the preamble, or null when the channel began with anything else. */
    private static String readSession(InputStream in) throws IOException {
        byte[] line = in.readNBytes(PREAMBLE_LENGTH);
        if (line.length != PREAMBLE_LENGTH || line[PREAMBLE_LENGTH - 1] != '\n') {
            return null;
        }
        String session = new String(line, 0, PREAMBLE_LENGTH - 1, StandardCharsets.US_ASCII);
        return Wire.isSession(session) ? session : null;
    }
}
