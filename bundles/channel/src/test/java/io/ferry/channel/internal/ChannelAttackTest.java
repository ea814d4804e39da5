package io.ferry.channel.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentCredentials;
import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelException;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.channel.testing.TestChannels;
import io.ferry.channel.testing.TestPki;

/**
 * Attacks on the agent channel from the network, against real TLS endpoints on loopback: a
 * downgrade to TLS 1.2 from either side, a record altered in flight, and a recorded handshake
 * replayed. (A stranger's certificate, a revoked agent and a relay that answers with its own
 * identity are in {@link TlsAgentChannelsTest}.)
 */
class ChannelAttackTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private TestPki pki;
    private AgentCredentials laptop;
    private AgentCredentials mid;
    private TlsAgentChannels laptopChannels;
    private TlsAgentChannels midChannels;
    private final List<AutoCloseable> closing = new ArrayList<>();
    /** Each channel the mid's handler was given: what it read and how its reading ended. */
    private final List<String> handled = new CopyOnWriteArrayList<>();
    private final List<Throwable> readFailures = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        pki = new TestPki("Ferry IT center test CA");
        laptop = pki.agent("laptop");
        mid = pki.agent("mid");
        laptopChannels = TestChannels.start(laptop);
        midChannels = TestChannels.start(mid);
        closing.add(laptopChannels::close);
        closing.add(midChannels::close);
        midChannels.addHandler(recordingEcho(), Map.of(ChannelHandler.PURPOSE, "echo"));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    @Test
    void aClientThatOffersOnlyTls12IsRefusedEvenWithAGenuineCertificate() throws Exception {
        SSLContext tls12 = sunJsse("TLSv1.2", laptop);
        try (SSLSocket s = (SSLSocket) tls12.getSocketFactory().createSocket("127.0.0.1", midChannels.port())) {
            s.setEnabledProtocols(new String[] { "TLSv1.2" });
            s.setSoTimeout(5000);
            Throwable refused = catchThrowable(() -> {
                s.startHandshake();
                s.getOutputStream().write(ChannelHeaderBytes.request("echo"));
                s.getOutputStream().flush();
                s.getInputStream().read();
            });
            assertThat(refused).isInstanceOf(IOException.class);
        }
        // the same credentials over TLS 1.3 do get a channel: the refusal above was the version
        try (Channel c = laptopChannels.open(address(), "echo", TIMEOUT)) {
            assertThat(roundTrip(c, "over 1.3")).isEqualTo("over 1.3");
        }
        waitFor(() -> !handled.isEmpty());
        assertThat(handled).containsExactly("over 1.3");
    }

    @Test
    void aServerThatOffersOnlyTls12IsRefusedEvenWithAGenuineCertificate() throws Exception {
        SSLContext tls12 = sunJsse("TLSv1.2", mid);
        try (SSLServerSocket server = (SSLServerSocket) tls12.getServerSocketFactory().createServerSocket(0, 5,
                InetAddress.getLoopbackAddress())) {
            server.setEnabledProtocols(new String[] { "TLSv1.2" });
            server.setNeedClientAuth(true);
            CompletableFuture<Throwable> serverSide = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.setSoTimeout(5000);
                    s.startHandshake();
                    return null;
                } catch (IOException e) {
                    return e;
                }
            });
            assertThatThrownBy(() -> laptopChannels.open(new AgentAddress("mid", "127.0.0.1", server.getLocalPort()),
                    "echo", TIMEOUT))
                    .isInstanceOf(ChannelException.class)
                    .hasMessageContaining("TLS handshake failed");
            assertThat(serverSide.get(10, TimeUnit.SECONDS)).as("the TLS 1.2 server completed no handshake")
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    void aRecordAlteredInFlightEndsTheChannelAndIsNeverDelivered() throws Exception {
        try (Relay relay = new Relay(midChannels.port())) {
            Channel c = laptopChannels.open(new AgentAddress("mid", "127.0.0.1", relay.port()), "echo", TIMEOUT);
            try (c) {
                assertThat(roundTrip(c, "genuine")).isEqualTo("genuine");
                relay.tamperNextChunk.set(true);
                c.output().write("migrate vm1 to eve".getBytes(StandardCharsets.UTF_8));
                c.output().flush();
                Throwable answer = catchThrowable(() -> {
                    int b = c.input().read();
                    if (b != -1) {
                        throw new AssertionError("the mid answered an altered record: " + b);
                    }
                });
                assertThat(answer).as("the laptop sees the channel end, not an answer")
                        .satisfiesAnyOf(t -> assertThat(t).isNull(), t -> assertThat(t).isInstanceOf(IOException.class));
            }
            waitFor(() -> !readFailures.isEmpty());
            assertThat(relay.tampered).isTrue();
            assertThat(handled).containsExactly("genuine");
            assertThat(readFailures.get(0)).isInstanceOf(IOException.class);
        }
    }

    /**
     * A stream cut short (the TCP connection ends without TLS's close_notify) is a failure on both ends, never an
     * end.
     */
    @Test
    void aConnectionCutWithoutCloseNotifyIsAnErrorNotAnEnd() throws Exception {
        Relay relay = new Relay(midChannels.port());
        Channel c = laptopChannels.open(new AgentAddress("mid", "127.0.0.1", relay.port()), "echo", TIMEOUT);
        try (c) {
            assertThat(roundTrip(c, "before the cut")).isEqualTo("before the cut");
            relay.close(); // both TCP connections end; neither agent sent close_notify
            assertThatThrownBy(() -> c.input().read()).isInstanceOf(IOException.class)
                    .hasMessageContaining("without close_notify");
        }
        waitFor(() -> !readFailures.isEmpty());
        assertThat(readFailures.get(0)).isInstanceOf(IOException.class).hasMessageContaining("without close_notify");
        assertThat(handled).containsExactly("before the cut");
    }

    @Test
    void aRecordedHandshakeReplayedToTheServerOpensNoChannel() throws Exception {
        byte[] recorded;
        try (Relay relay = new Relay(midChannels.port())) {
            try (Channel c = laptopChannels.open(new AgentAddress("mid", "127.0.0.1", relay.port()), "echo", TIMEOUT)) {
                assertThat(roundTrip(c, "once")).isEqualTo("once");
            }
            waitFor(() -> handled.size() == 1 && readFailures.size() + handled.size() >= 1);
            recorded = relay.clientBytes();
        }
        assertThat(recorded.length).isGreaterThan(200);
        try (Socket replay = new Socket("127.0.0.1", midChannels.port())) {
            replay.setSoTimeout(5000);
            replay.getOutputStream().write(recorded);
            replay.getOutputStream().flush();
            InputStream in = replay.getInputStream();
            try {
                while (in.read() != -1) {
                    // the server's new handshake flight, then its alert; it never reads the replayed records
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the server kept a replayed handshake open", e);
            } catch (IOException e) {
                // reset by the server: refused too
            }
        }
        Thread.sleep(200);
        assertThat(handled).as("only the genuine channel reached the handler").containsExactly("once");
    }

    // ------------------------------------------------------------------ helpers

    private ChannelHandler recordingEcho() {
        return channel -> {
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            try {
                while ((n = channel.input().read(buffer)) != -1) {
                    seen.write(buffer, 0, n);
                    channel.output().write(buffer, 0, n);
                    channel.output().flush();
                }
            } catch (IOException e) {
                readFailures.add(e);
            } finally {
                handled.add(seen.toString(StandardCharsets.UTF_8));
            }
        };
    }

    private static String roundTrip(Channel c, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        c.output().write(bytes);
        c.output().flush();
        return new String(c.input().readNBytes(bytes.length), StandardCharsets.UTF_8);
    }

    private AgentAddress address() {
        return new AgentAddress("mid", "127.0.0.1", midChannels.port());
    }

    /** A JDK (SunJSSE) context with the agent's genuine key, certificate and trust, for one protocol. */
    private static SSLContext sunJsse(String protocol, AgentCredentials credentials) throws Exception {
        char[] password = "test".toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("agent", credentials.privateKey(), password, credentials.certificateChain());
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, password);
        SSLContext context = SSLContext.getInstance(protocol);
        context.init(kmf.getKeyManagers(), new TrustManager[] { credentials.trustManager() }, null);
        return context;
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached within 10 s");
            }
            Thread.sleep(20);
        }
    }

    /** The bytes that open a channel (purpose and a nonce), as a client would send them after the handshake. */
    private static final class ChannelHeaderBytes {
        static byte[] request(String purpose) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ChannelHeader.writeRequest(out, purpose, new byte[ChannelHeader.NONCE_LENGTH]);
            return out.toByteArray();
        }
    }

    /**
     * A man in the middle at the TCP level: forwards both ways, records what the client sent,
     * and flips one bit of the next client-to-server chunk when asked.
     */
    private static final class Relay implements AutoCloseable {
        private final ServerSocket listener;
        private final int target;
        private final ByteArrayOutputStream fromClient = new ByteArrayOutputStream();
        final AtomicBoolean tamperNextChunk = new AtomicBoolean();
        volatile boolean tampered;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();

        Relay(int target) throws IOException {
            this.target = target;
            this.listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
            Thread t = new Thread(this::acceptOne, "relay");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        synchronized byte[] clientBytes() {
            return fromClient.toByteArray();
        }

        private void acceptOne() {
            try {
                Socket client = listener.accept();
                Socket server = new Socket("127.0.0.1", target);
                sockets.add(client);
                sockets.add(server);
                pump(client.getInputStream(), server.getOutputStream(), true);
                pump(server.getInputStream(), client.getOutputStream(), false);
            } catch (IOException e) {
                // closed
            }
        }

        private void pump(InputStream in, OutputStream out, boolean clientToServer) {
            Thread t = new Thread(() -> {
                byte[] buffer = new byte[16384];
                int n;
                try {
                    while ((n = in.read(buffer)) != -1) {
                        if (clientToServer) {
                            synchronized (this) {
                                fromClient.write(buffer, 0, n);
                            }
                            if (tamperNextChunk.compareAndSet(true, false)) {
                                buffer[n - 1] ^= 0x01; // the last byte of the record: its authentication tag
                                tampered = true;
                            }
                        }
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                } catch (IOException e) {
                    // one side closed
                } finally {
                    sockets.forEach(s -> {
                        try {
                            s.shutdownOutput();
                        } catch (IOException | RuntimeException ignored) {
                            // already closed
                        }
                    });
                }
            }, "relay-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            listener.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
