package io.ferry.channel.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentCredentials;
import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelException;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.channel.testing.TestChannels;
import io.ferry.channel.testing.TestPki;

class TlsAgentChannelsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private TestPki pki;
    private AgentCredentials laptop;
    private AgentCredentials mid;
    private TlsAgentChannels laptopChannels;
    private TlsAgentChannels midChannels;
    private final List<TlsAgentChannels> opened = new ArrayList<>();
    /** What the mid's echo handler saw: its view of each channel's binding. */
    private final List<byte[]> serverBindings = new CopyOnWriteArrayList<>();
    private final List<String> serverPeers = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        pki = new TestPki("Ferry IT center test CA");
        laptop = pki.agent("laptop");
        mid = pki.agent("mid");
        laptopChannels = start(laptop);
        midChannels = start(mid);
        midChannels.addHandler(echo(), Map.of(ChannelHandler.PURPOSE, "echo"));
    }

    @AfterEach
    void tearDown() {
        opened.forEach(TlsAgentChannels::close);
    }

    @Test
    void bothEndsKnowEachOtherAndShareTheBinding() throws Exception {
        try (Channel c = laptopChannels.open(address("mid"), "echo", TIMEOUT)) {
            assertThat(c.peerAgentId()).isEqualTo("mid");
            assertThat(roundTrip(c, "hello mid")).isEqualTo("hello mid");
            byte[] binding = c.binding("attestation");
            assertThat(binding).hasSize(32);
            assertThat(serverBindings).hasSize(1);
            assertThat(serverBindings.get(0)).isEqualTo(binding);
            assertThat(serverPeers).containsExactly("laptop");
            assertThat(c.binding("other-label")).isNotEqualTo(binding);
        }
        try (Channel second = laptopChannels.open(address("mid"), "echo", TIMEOUT)) {
            roundTrip(second, "again");
            assertThat(second.binding("attestation")).isNotEqualTo(serverBindings.get(0));
        }
    }

    /** An agent is known by the id in its certificate, not by a host name: its certificate names none. */
    @Test
    void noHostNameIsCheckedEvenByATrustManagerThatWould() throws Exception {
        TlsAgentChannels handheld = start(pki.agentWithJdkTrust("handheld"));
        try (Channel c = handheld.open(address("mid"), "echo", TIMEOUT)) {
            assertThat(roundTrip(c, "no host name")).isEqualTo("no host name");
        }
    }

    @Test
    void aPeerWithAnotherIdentityIsRefused() {
        assertThatThrownBy(() -> laptopChannels.open(new AgentAddress("handheld", "127.0.0.1", midChannels.port()),
                "echo", TIMEOUT))
                .isInstanceOf(ChannelException.class)
                .hasMessageContaining("the peer is agent 'mid', not 'handheld'");
        assertThat(serverPeers).isEmpty();
    }

    @Test
    void aStrangersCertificateIsRefusedBothWays() throws Exception {
        TestPki other = new TestPki("Someone else's CA");
        TlsAgentChannels stranger = start(other.agent("stranger"));
        assertThatThrownBy(() -> stranger.open(address("mid"), "echo", TIMEOUT))
                .isInstanceOf(ChannelException.class)
                .hasMessageContaining("TLS handshake failed");
        assertThatThrownBy(() -> laptopChannels.open(new AgentAddress("stranger", "127.0.0.1", stranger.port()),
                "echo", TIMEOUT))
                .isInstanceOf(ChannelException.class)
                .hasMessageContaining("TLS handshake failed");
        assertThat(serverPeers).isEmpty();
    }

    @Test
    void aRevokedAgentIsRefused() {
        pki.revoked.add(pki.serialOf(laptop));
        assertThatThrownBy(() -> laptopChannels.open(address("mid"), "echo", TIMEOUT))
                .isInstanceOf(ChannelException.class);
        assertThat(serverPeers).isEmpty();
    }

    @Test
    void aPurposeWithoutHandlerIsRefusedWithTheReason() {
        assertThatThrownBy(() -> laptopChannels.open(address("mid"), "checkpoint", TIMEOUT))
                .isInstanceOf(ChannelException.class)
                .hasMessageContaining("checkpoint refused: agent mid has no handler for 'checkpoint'");
        assertThatThrownBy(() -> laptopChannels.open(address("mid"), "Bad Purpose!", TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void garbageAndSilentClientsDoNotStopTheServer() throws Exception {
        try (Socket plain = new Socket("127.0.0.1", midChannels.port())) {
            OutputStream out = plain.getOutputStream();
            out.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(plain.getInputStream().read()).isIn(-1, 21); // closed, or a TLS alert record
        }
        try (Socket silent = new Socket("127.0.0.1", midChannels.port());
                Channel c = laptopChannels.open(address("mid"), "echo", TIMEOUT)) {
            assertThat(roundTrip(c, "still serving")).isEqualTo("still serving");
        }
    }

    @Test
    void anUnreachableAgentIsNamed() throws Exception {
        int free;
        try (ServerSocket s = new ServerSocket(0)) {
            free = s.getLocalPort();
        }
        assertThatThrownBy(() -> laptopChannels.open(new AgentAddress("mid", "127.0.0.1", free), "echo", TIMEOUT))
                .isInstanceOf(ChannelException.class)
                .hasMessageStartingWith("channel to mid@127.0.0.1:" + free);
    }

    /**
     * Bulk bytes through the buffer views (a relay's path: records sealed from and opened into direct buffers, many
     * to a system call) arrive whole and in order, mixed with the streams on both ends and with buffers too small
     * for a record or on the heap.
     */
    @Test
    @Timeout(30)
    void bulkBytesMoveThroughBuffersAndStreamsAlike() throws Exception {
        midChannels.addHandler(channel -> {
            MessageDigest digest = sha256();
            // a stream read first (the length to come): the views continue after it
            long length = new DataInputStream(channel.input()).readLong();
            ByteBuffer big = ByteBuffer.allocateDirect(256 * 1024);
            ByteBuffer small = ByteBuffer.allocateDirect(1000); // less than a record: through the engine's own buffer
            ByteBuffer heap = ByteBuffer.allocate(70_000);
            ReadableByteChannel in = channel.readable();
            long total = 0;
            for (int i = 0; total < length; i++) {
                ByteBuffer into = i % 3 == 0 ? big : i % 3 == 1 ? small : heap;
                into.clear();
                int n = in.read(into);
                assertThat(n).as("bytes read before the end").isPositive();
                digest.update(into.flip());
                total += n;
            }
            channel.output().write((total + " " + HexFormat.of().formatHex(digest.digest()) + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            channel.output().flush();
        }, Map.of(ChannelHandler.PURPOSE, "digest"));

        byte[] payload = new byte[5 * 1024 * 1024 + 12_345];
        new Random(7).nextBytes(payload);
        MessageDigest expected = sha256();
        try (Channel c = laptopChannels.open(address("mid"), "digest", TIMEOUT)) {
            new DataOutputStream(c.output()).writeLong(payload.length);
            WritableByteChannel out = c.writable();
            ByteBuffer direct = ByteBuffer.allocateDirect(300_000);
            int sent = 0;
            for (int chunk = 1; sent < payload.length; chunk = chunk * 7 % 299_993 + 1) {
                int n = Math.min(chunk, payload.length - sent);
                if (chunk % 2 == 0) { // a direct buffer: sealed as it is
                    direct.clear().put(payload, sent, n).flip();
                    assertThat(out.write(direct)).isEqualTo(n);
                    assertThat(direct.hasRemaining()).isFalse();
                } else { // a heap buffer, then the stream
                    out.write(ByteBuffer.wrap(payload, sent, n / 2));
                    c.output().write(payload, sent + n / 2, n - n / 2);
                }
                sent += n;
            }
            expected.update(payload);
            String answer = new BufferedReader(new InputStreamReader(c.input(),
                    StandardCharsets.UTF_8)).readLine();
            assertThat(answer).isEqualTo(payload.length + " " + HexFormat.of().formatHex(expected.digest()));
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void addressesParse() {
        assertThat(AgentAddress.parse("laptop@10.0.0.5:7443")).isEqualTo(new AgentAddress("laptop", "10.0.0.5", 7443));
        assertThatThrownBy(() -> AgentAddress.parse("laptop:7443")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AgentAddress.parse("laptop@host:99999")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AgentAddress.parse("laptop@host:")).isInstanceOf(IllegalArgumentException.class);
    }

    private ChannelHandler echo() {
        return channel -> {
            serverPeers.add(channel.peerAgentId());
            serverBindings.add(channel.binding("attestation"));
            byte[] buffer = new byte[8192];
            int n;
            while ((n = channel.input().read(buffer)) != -1) {
                channel.output().write(buffer, 0, n);
                channel.output().flush();
            }
        };
    }

    private static String roundTrip(Channel c, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        c.output().write(bytes);
        c.output().flush();
        return new String(c.input().readNBytes(bytes.length), StandardCharsets.UTF_8);
    }

    private AgentAddress address(String agent) {
        return new AgentAddress(agent, "127.0.0.1", midChannels.port());
    }

    private TlsAgentChannels start(AgentCredentials credentials) throws IOException {
        TlsAgentChannels channels = TestChannels.start(credentials);
        opened.add(channels);
        return channels;
    }
}
