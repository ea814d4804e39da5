package io.ferry.channel.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.security.cert.X509Certificate;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.ferry.api.channel.Channel;

/**
 * The buffer views a channel has by default (one whose implementation knows only streams, as a test's wrapper):
 * what a write took has left a buffering stream when it returns, whole and in order, from heap and direct buffers.
 */
class ChannelDefaultsTest {

    /** A channel over a buffering stream, as a wrapper might build it: nothing leaves it before a flush. */
    private static final class StreamOnly implements Channel {
        final ByteArrayOutputStream sent = new ByteArrayOutputStream();
        final OutputStream out = new BufferedOutputStream(sent, 1 << 20);
        boolean closed;

        @Override
        public String purpose() {
            return "test";
        }

        @Override
        public String peerAgentId() {
            return "peer";
        }

        @Override
        public X509Certificate peerCertificate() {
            return null;
        }

        @Override
        public byte[] binding(String label) {
            return new byte[32];
        }

        @Override
        public InputStream input() {
            return new ByteArrayInputStream(new byte[0]);
        }

        @Override
        public OutputStream output() {
            return out;
        }

        @Override
        public void shutdownOutput() {
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void aWriteHasLeftTheStreamWhenItReturns() throws Exception {
        StreamOnly c = new StreamOnly();
        byte[] data = new byte[200_000];
        new Random(3).nextBytes(data);
        WritableByteChannel w = c.writable();

        ByteBuffer heap = ByteBuffer.wrap(data, 10, 70_000);
        assertThat(w.write(heap)).isEqualTo(70_000);
        assertThat(heap.hasRemaining()).isFalse();
        assertThat(c.sent.size()).as("sent at once, not held in the stream's buffer").isEqualTo(70_000);

        ByteBuffer direct = ByteBuffer.allocateDirect(150_000).put(data, 70_010, 129_990).flip();
        assertThat(w.write(direct)).isEqualTo(129_990);
        assertThat(direct.hasRemaining()).isFalse();

        byte[] expected = new byte[199_990];
        System.arraycopy(data, 10, expected, 0, 199_990);
        assertThat(c.sent.toByteArray()).isEqualTo(expected);

        w.close();
        assertThat(c.closed).isTrue();
    }
}
