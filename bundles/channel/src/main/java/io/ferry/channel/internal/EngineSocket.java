package io.ferry.channel.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * A TLS connection on a plain socket, driven through an {@link SSLEngine}: BoringSSL's engine (netty-tcnative) has
 * no socket of its own. Blocking; one thread may read while another writes (the engine orders its own calls).
 * Records move through direct buffers, which a native engine reads and writes without another copy, many records
 * to a system call; as a {@link ByteChannel} it takes the caller's own direct buffers the same way.
 */
final class EngineSocket implements ByteChannel {

    /** What is wrapped when the engine has something of its own to send: no application data. */
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0).asReadOnlyBuffer();

    /**
     * How many records the socket buffers hold: one system call then reads, or writes, up to this many records
     * (about 260 KiB) instead of one at a time.
     */
    private static final int RECORDS_PER_CALL = 16;

    private final SocketChannel socket;
    private final SSLEngine engine;
    /** The most plaintext one record unwraps to: a read straight into a caller's buffer needs this much room. */
    private final int recordPlaintext;
    /** Records read from the socket and not unwrapped yet (kept ready for reading from it: flipped). */
    private final ByteBuffer netIn;
    /** Plaintext unwrapped and not read yet (flipped). */
    private final ByteBuffer appIn;
    private final ReentrantLock writing = new ReentrantLock();
    private ByteBuffer netOut;
    private volatile boolean handshaken;
    private final InputStream in = newInput();
    private final OutputStream out = newOutput();

    EngineSocket(SocketChannel socket, SSLEngine engine) {
        this.socket = socket;
        this.engine = engine;
        SSLSession session = engine.getSession();
        this.recordPlaintext = session.getApplicationBufferSize();
        this.netIn = ByteBuffer.allocateDirect(session.getPacketBufferSize() * RECORDS_PER_CALL).flip();
        this.appIn = ByteBuffer.allocateDirect(session.getApplicationBufferSize() * 2).flip();
        this.netOut = ByteBuffer.allocateDirect(session.getPacketBufferSize() * RECORDS_PER_CALL);
    }

    SSLSession session() {
        return engine.getSession();
    }

    /** Runs the handshake to its end. */
    void handshake() throws IOException {
        engine.beginHandshake();
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_WRAP -> wrap(NOTHING);
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (fill() < 0) {
                        throw new EOFException("the peer closed the connection during the TLS handshake");
                    }
                }
                case NEED_TASK -> {
                    for (Runnable task; (task = engine.getDelegatedTask()) != null;) {
                        task.run();
                    }
                }
                default -> {
                    handshaken = true;
                    return;
                }
            }
        }
    }

    InputStream input() {
        return in;
    }

    OutputStream output() {
        return out;
    }

    @Override
    public boolean isOpen() {
        return socket.isOpen();
    }

    /**
     * Reads what has arrived, at least one byte, or -1 at the end. Into a direct buffer with room for a whole
     * record the engine unwraps straight, as many records as have arrived, with no copy of its own; otherwise the
     * plaintext passes through {@link #appIn}.
     */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!dst.hasRemaining()) {
            return 0;
        }
        if (!appIn.hasRemaining() && dst.isDirect() && dst.remaining() >= recordPlaintext) {
            int n;
            while ((n = unwrap(dst, true)) == 0) {
                // a record without application data (a session ticket, a key update): the next one
            }
            if (n < 0) {
                return -1;
            }
            for (int more; dst.remaining() >= recordPlaintext && (more = unwrap(dst, false)) > 0;) {
                n += more; // records already read: no waiting on the socket for more
            }
            return n;
        }
        while (!appIn.hasRemaining()) {
            if (fill() < 0) {
                return -1;
            }
        }
        int n = Math.min(dst.remaining(), appIn.remaining());
        ByteBuffer part = appIn.slice(appIn.position(), n);
        dst.put(part);
        appIn.position(appIn.position() + n);
        return n;
    }

    /** Writes all of {@code src} (a direct buffer is sealed without a copy); returns how many bytes that was. */
    @Override
    public int write(ByteBuffer src) throws IOException {
        int n = src.remaining();
        while (src.hasRemaining()) {
            wrap(src);
        }
        return n;
    }

    private InputStream newInput() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return EngineSocket.this.read(ByteBuffer.wrap(b, off, len)); // a heap buffer: through appIn
            }
        };
    }

    private OutputStream newOutput() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                EngineSocket.this.write(ByteBuffer.wrap(b, off, len));
            }
        };
    }

    /** Sends close_notify and half-closes the socket: the peer reads an end of stream, and may still write. */
    void shutdownOutput() throws IOException {
        engine.closeOutbound();
        flush();
        socket.shutdownOutput();
    }

    /**
     * Sends close_notify, so the peer reads a clean end rather than a cut, unless a write is under way (a writer
     * blocked on a peer that reads nothing must not hold up closing); then closes the socket.
     */
    @Override
    public void close() throws IOException {
        try {
            if (handshaken && writing.tryLock()) {
                try {
                    engine.closeOutbound();
                    flush();
                } finally {
                    writing.unlock();
                }
            }
        } catch (IOException | RuntimeException e) {
            // the connection is gone already: closing it is all that is left
        } finally {
            socket.close();
            if (engine instanceof io.netty.util.ReferenceCounted counted && counted.refCnt() > 0) {
                counted.release(); // an OpenSSL engine holds native memory until released
            }
        }
    }

    /**
     * Sends what the engine has to send of its own (close_notify, an alert, a key update) until it has nothing
     * left. A failure the engine holds back until its alert is out is thrown from here.
     */
    private void flush() throws IOException {
        while (wrap(NOTHING) > 0) {
            // until nothing is left to send
        }
    }

    /**
     * Seals what it can of {@code src} into records, as many as {@link #netOut} holds, and writes them out in one
     * go; returns the bytes of records written.
     */
    private int wrap(ByteBuffer src) throws IOException {
        writing.lock();
        try {
            netOut.clear();
            while (true) {
                SSLEngineResult r = engine.wrap(src, netOut);
                if (r.getStatus() == Status.BUFFER_OVERFLOW) {
                    if (netOut.position() > 0) {
                        break; // full: out with what it holds
                    }
                    netOut = ByteBuffer.allocateDirect(netOut.capacity() * 2);
                    continue;
                }
                if (r.getStatus() == Status.CLOSED && r.bytesProduced() == 0 && src.hasRemaining()) {
                    if (netOut.position() > 0) {
                        break; // out with the records sealed before; the next call fails
                    }
                    throw new SSLException("the TLS connection is closed for writing");
                }
                if (r.bytesProduced() == 0 || !src.hasRemaining()) {
                    break;
                }
            }
            netOut.flip();
            int produced = netOut.remaining();
            while (netOut.hasRemaining()) {
                socket.write(netOut);
            }
            return produced;
        } finally {
            writing.unlock();
        }
    }

    /** Unwraps the next record into {@link #appIn}, reading from the socket as needed; -1 at the end. */
    private int fill() throws IOException {
        appIn.compact();
        try {
            return unwrap(appIn, true);
        } finally {
            appIn.flip();
        }
    }

    /**
     * Unwraps the next record into {@code dst}, reading from the socket when no whole record is buffered (or
     * returning 0 then, unless {@code mayRead}); returns the plaintext bytes it gave (0 for a record of the
     * protocol's own), -1 at the end.
     */
    private int unwrap(ByteBuffer dst, boolean mayRead) throws IOException {
        while (true) {
            SSLEngineResult r = engine.unwrap(netIn, dst);
            if (handshaken && r.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
                // something to send back after the handshake: a key update, our close_notify, or the alert for a
                // record that failed its integrity check, whose failure the engine throws once the alert is out
                flush();
            }
            if (r.getStatus() == Status.CLOSED) {
                return -1;
            }
            if (r.getStatus() == Status.OK && (r.bytesProduced() > 0 || r.bytesConsumed() > 0)) {
                return r.bytesProduced();
            }
            if (r.getStatus() == Status.BUFFER_OVERFLOW) {
                throw new SSLException("a TLS record larger than the engine's application buffer");
            }
            // BUFFER_UNDERFLOW, or nothing done: more bytes from the socket
            if (!mayRead) {
                return 0;
            }
            netIn.compact();
            int n;
            try {
                n = socket.read(netIn);
            } finally {
                netIn.flip();
            }
            if (n < 0) {
                if (handshaken) {
                    // the peer's close_notify ends a stream (CLOSED above): without it the stream was cut short
                    throw new EOFException("the TLS connection ended without close_notify (cut, or its peer died)");
                }
                return -1;
            }
        }
    }
}
