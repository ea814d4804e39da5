package io.ferry.migration.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.channel.testing.TestPki;

/**
 * The migration transport without libvirt: an echo server stands in for the target's
 * libvirtd, and the bytes must come back intact through relay, TLS channel and tunnel handler.
 */
class RelayTest {

    private EchoDaemon fakeLibvirtd;
    private TlsAgentChannels source;
    private TlsAgentChannels target;
    private LibvirtTunnelHandler tunnel;

    @BeforeEach
    void setUp() throws Exception {
        fakeLibvirtd = new EchoDaemon("fake-libvirtd");
        TestPki pki = new TestPki("IT center");
        source = TestChannels.start(pki.agent("laptop"));
        target = TestChannels.start(pki.agent("mid"));
        tunnel = new LibvirtTunnelHandler(fakeLibvirtd.address());
        target.addHandler(tunnel, Map.of(ChannelHandler.PURPOSE, LibvirtTunnelHandler.PURPOSE));
    }

    @AfterEach
    void tearDown() throws IOException {
        source.close();
        target.close();
        tunnel.close();
        fakeLibvirtd.close();
    }

    @Test
    void bytesCrossIntactBothWays() throws Exception {
        try (Relay relay = Relay.libvirt(source, mid(), Duration.ofSeconds(5))) {
            URI uri = URI.create(relay.libvirtUri());
            assertThat(uri.getScheme()).isEqualTo("qemu+tcp");
            assertThat(uri.getHost()).isEqualTo("127.0.0.1");
            byte[] payload = new byte[16 << 20];
            new Random(7).nextBytes(payload);
            try (Socket libvirtClient = new Socket("127.0.0.1", uri.getPort())) {
                Thread writer = new Thread(() -> {
                    try {
                        OutputStream out = libvirtClient.getOutputStream();
                        out.write(payload);
                        out.flush();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                writer.start();
                // like libvirt's RPC: request and answer, then a full close (no half-close over TLS)
                byte[] back = libvirtClient.getInputStream().readNBytes(payload.length);
                writer.join();
                assertThat(back.length).isEqualTo(payload.length);
                assertThat(MessageDigest.getInstance("SHA-256").digest(back))
                        .isEqualTo(MessageDigest.getInstance("SHA-256").digest(payload));
            }
            assertThat(relay.failure()).isNull();
            long deadline = System.nanoTime() + 5_000_000_000L; // the copy threads count just after writing
            while (relay.bytesCarried() < 2L * payload.length && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(relay.bytesCarried()).isEqualTo(2L * payload.length);
        }
    }

    @Test
    void aTargetThatRefusesClosesTheLibvirtConnectionAndSaysWhy() throws Exception {
        target.removeHandler(tunnel, Map.of(ChannelHandler.PURPOSE, LibvirtTunnelHandler.PURPOSE));
        try (Relay relay = Relay.libvirt(source, mid(), Duration.ofSeconds(5));
                Socket libvirtClient = new Socket("127.0.0.1", URI.create(relay.libvirtUri()).getPort())) {
            assertThat(libvirtClient.getInputStream().read()).isEqualTo(-1);
            assertThat(relay.failure()).hasMessageContaining("has no handler for 'libvirt-migration'");
        }
    }

    @Test
    void theFirstChannelIsOpenedAheadAndCarriesTheFirstConnection() throws Exception {
        try (Relay relay = Relay.libvirt(source, mid(), Duration.ofSeconds(5))) {
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (fakeLibvirtd.connections() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            // the channel (TLS handshake, the target's tunnel to its daemon) is there before libvirt connects
            assertThat(fakeLibvirtd.connections()).isEqualTo(1);
            try (Socket libvirtClient = new Socket("127.0.0.1", URI.create(relay.libvirtUri()).getPort())) {
                libvirtClient.getOutputStream().write(7);
                assertThat(libvirtClient.getInputStream().read()).isEqualTo(7);
            }
            assertThat(fakeLibvirtd.connections()).as("the first connection took the channel opened ahead")
                    .isEqualTo(1);
        }
    }

    @Test
    void aClosedRelayCarriesNothing() throws Exception {
        Relay relay = Relay.libvirt(source, mid(), Duration.ofSeconds(5));
        int port = URI.create(relay.libvirtUri()).getPort();
        Socket open = new Socket("127.0.0.1", port);
        open.getOutputStream().write(1);
        assertThat(open.getInputStream().read()).isEqualTo(1);
        relay.close();
        assertThat(open.getInputStream().read()).isEqualTo(-1);
        open.close();
    }

    private AgentAddress mid() {
        return new AgentAddress("mid", "127.0.0.1", target.port());
    }
}
