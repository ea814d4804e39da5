package io.ferry.api.channel;

import java.io.Closeable;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.security.cert.X509Certificate;

/** One open, mutually authenticated connection with another agent. */
public interface Channel extends Closeable {

    /** What the channel is for, as the opening side asked. */
    String purpose();

    /** The peer's identity, proven by its certificate. */
    String peerAgentId();

    X509Certificate peerCertificate();

    /**
     * A 32-byte value that only this channel has, the same on both ends: derived from both
     * agents' certificates and the nonces both exchanged when it opened, separated by
     * {@code label}. Put into an attestation nonce, it proves the attestation was answered for
     * this channel, not relayed from another.
     */
    byte[] binding(String label);

    InputStream input();

    OutputStream output();

    /**
     * The bytes of {@link #input()}, for moving many of them: a channel that can unwrap its records straight into
     * the caller's (direct) buffer does so, with no copy of its own. Reads and stream reads may be mixed; closing
     * it closes the channel.
     */
    default ReadableByteChannel readable() {
        return Channels.newChannel(input());
    }

    /**
     * The stream of {@link #output()}, written from buffers: a direct buffer is sealed as it is, where it can be.
     * What a write took is sent when it returns (no flush to call); closing it closes the channel.
     */
    default WritableByteChannel writable() {
        return ChannelStreams.writable(this);
    }

    /**
     * Ends the sending direction: the peer reads end of stream. Where the TLS implementation
     * cannot half-close, this closes the whole channel; protocols on channels must not expect an
     * answer after it.
     */
    void shutdownOutput();
}
