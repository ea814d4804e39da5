package io.ferry.api.channel;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/** The default {@link Channel#writable()}: over the channel's stream, each write sent at once. */
final class ChannelStreams {

    private ChannelStreams() {
    }

    /**
     * Writes each buffer through {@code out} in one piece where it has an array (in pieces of 64 KiB where it has
     * not), then flushes: what the caller wrote is on its way when the call returns, as with a socket.
     */
    static WritableByteChannel writable(Channel channel) {
        return new WritableByteChannel() {
            private byte[] copy;

            @Override
            public int write(ByteBuffer src) throws IOException {
                OutputStream out = channel.output();
                int n = src.remaining();
                if (src.hasArray()) {
                    out.write(src.array(), src.arrayOffset() + src.position(), n);
                    src.position(src.limit());
                } else {
                    if (copy == null) {
                        copy = new byte[64 * 1024];
                    }
                    while (src.hasRemaining()) {
                        int part = Math.min(copy.length, src.remaining());
                        src.get(copy, 0, part);
                        out.write(copy, 0, part);
                    }
                }
                out.flush();
                return n;
            }

            @Override
            public boolean isOpen() {
                return true; // until the channel closes: then a write fails
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }
}
