package io.ferry.itests.transport;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.Channel;
import io.ferry.migration.internal.LibvirtTunnelHandler;
import io.ferry.migration.internal.QemuStreamHandler;

/**
 * The source agent's channels, seen from inside: what the relays write into the tunnel channels
 * (libvirt's connection, QEMU's stream) before TLS encrypts it (plaintext, searched for the marker), and a switch that cuts a
 * tunnel channel once it has carried a given number of bytes (a channel cut mid-migration).
 */
final class TappedChannels implements AgentChannels {

    private final AgentChannels delegate;
    final MarkerScan plaintext;
    final AtomicLong tunnelBytes = new AtomicLong();
    /** Cut a tunnel channel when it has sent this many bytes; 0: never. */
    volatile long cutAfter;
    volatile boolean cut;
    /** Pause this long before each write into a tunnel channel (a slow network); 0: none. */
    volatile long slowMillisPerWrite;

    TappedChannels(AgentChannels delegate, byte[] marker) {
        this.delegate = delegate;
        this.plaintext = new MarkerScan(marker);
    }

    @Override
    public Channel open(AgentAddress peer, String purpose, Duration timeout) {
        Channel c = delegate.open(peer, purpose, timeout);
        // the tunnels of a migration: libvirt's connection and QEMU's stream (the VM state, unless tunnelled)
        return LibvirtTunnelHandler.PURPOSE.equals(purpose) || QemuStreamHandler.PURPOSE.equals(purpose)
                ? new Tapped(c) : c;
    }

    @Override
    public String agentId() {
        return delegate.agentId();
    }

    @Override
    public int port() {
        return delegate.port();
    }

    private final class Tapped implements Channel {
        private final Channel c;
        private final OutputStream out;

        Tapped(Channel c) {
            this.c = c;
            MarkerScan.Stream stream = plaintext.stream();
            this.out = new FilterOutputStream(c.output()) {
                private long sent;

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    stream.feed(b, off, len);
                    tunnelBytes.addAndGet(len);
                    sent += len;
                    long limit = cutAfter;
                    if (limit > 0 && sent > limit) {
                        // a cut as the relay sees it on the network: its write fails, then it tears the pipe down
                        // (closing the channel here first would let the other direction see an orderly end of
                        // stream, which the pipe rightly does not call a break)
                        cut = true;
                        throw new IOException("channel cut by the test after " + sent + " bytes");
                    }
                    long slow = slowMillisPerWrite;
                    if (slow > 0) {
                        try {
                            Thread.sleep(slow);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new java.io.InterruptedIOException("interrupted");
                        }
                    }
                    c.output().write(b, off, len);
                }

                @Override
                public void write(int b) throws IOException {
                    write(new byte[] { (byte) b }, 0, 1);
                }
            };
        }

        @Override
        public String purpose() {
            return c.purpose();
        }

        @Override
        public String peerAgentId() {
            return c.peerAgentId();
        }

        @Override
        public X509Certificate peerCertificate() {
            return c.peerCertificate();
        }

        @Override
        public byte[] binding(String label) {
            return c.binding(label);
        }

        @Override
        public InputStream input() {
            return c.input();
        }

        @Override
        public OutputStream output() {
            return out;
        }

        @Override
        public void shutdownOutput() {
            c.shutdownOutput();
        }

        @Override
        public void close() throws IOException {
            c.close();
        }
    }
}
