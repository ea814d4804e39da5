package io.ferry.migration.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

import io.ferry.api.channel.Channel;

/** {@link Pipe.End}s for a plain socket, a socket channel (TCP or UNIX) and an agent channel. */
final class Ends {

    private Ends() {
    }

    static Pipe.End of(Socket socket) {
        return new Pipe.End() {
            @Override
            public InputStream in() throws IOException {
                return socket.getInputStream();
            }

            @Override
            public OutputStream out() throws IOException {
                return socket.getOutputStream();
            }

            @Override
            public void shutdownOutput() {
                try {
                    socket.shutdownOutput();
                } catch (IOException ignored) {
                    // closed already
                }
            }

            @Override
            public void close() throws IOException {
                socket.close();
            }
        };
    }

    /**
     * A socket channel's end. Its streams call the channel directly: {@code Channels.newInputStream} and
     * {@code newOutputStream} take the channel's one blocking lock for every read and write, so a read
     * waiting for data would hold up the other direction's writes.
     */
    static Pipe.End of(SocketChannel channel) {
        return new Pipe.End() {
            @Override
            public InputStream in() {
                return new InputStream() {
                    @Override
                    public int read() throws IOException {
                        byte[] one = new byte[1];
                        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        return len == 0 ? 0 : channel.read(ByteBuffer.wrap(b, off, len));
                    }
                };
            }

            @Override
            public OutputStream out() {
                return new OutputStream() {
                    @Override
                    public void write(int b) throws IOException {
                        write(new byte[] {(byte) b}, 0, 1);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
                        while (buffer.hasRemaining()) {
                            channel.write(buffer);
                        }
                    }
                };
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
            public InputStream in() {
                return channel.input();
            }

            @Override
            public OutputStream out() {
                return channel.output();
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
