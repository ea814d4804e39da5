package io.ferry.migration.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

import io.ferry.api.channel.Channel;

/** {@link Pipe.End}s for a plain socket and for an agent channel. */
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
