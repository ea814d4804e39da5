package io.ferry.migration.internal;

import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;

import io.ferry.api.channel.Channel;

/** {@link Pipe.End}s for a socket channel (TCP or UNIX) and an agent channel. */
final class Ends {

    private Ends() {
    }

    /**
     * A socket channel's end: the channel itself both ways. Its reads and writes take separate locks, so a read
     * waiting for data does not hold up the other direction's writes.
     */
    static Pipe.End of(SocketChannel channel) {
        return new Pipe.End() {
            @Override
            public ReadableByteChannel source() {
                return channel;
            }

            @Override
            public WritableByteChannel sink() {
                return channel;
            }

            @Override
            public void shutdownOutput() {
                try {
                    channel.shutdownOutput();
                } catch (IOException ignored) {
                    // closed already
                }
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }

    static Pipe.End of(Channel channel) {
        return new Pipe.End() {
            @Override
            public ReadableByteChannel source() {
                return channel.readable();
            }

            @Override
            public WritableByteChannel sink() {
                return channel.writable();
            }

            @Override
            public void shutdownOutput() {
                channel.shutdownOutput();
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }
}
