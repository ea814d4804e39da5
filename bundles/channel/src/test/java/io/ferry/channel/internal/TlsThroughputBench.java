package io.ferry.channel.internal;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Function;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;

import org.bouncycastle.jce.provider.BouncyCastleProvider;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.bouncycastle.jsse.provider.BouncyCastleJsseProvider;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;

import io.ferry.api.channel.AgentCredentials;
import io.ferry.channel.testing.TestPki;

/**
 * A side-by-side micro benchmark (a main class run by hand, and by bench/run channel-tls; not a test): bulk
 * throughput of one direction of a loopback TLS 1.3 connection, mutually authenticated with TestPki's EC
 * certificates, per JSSE provider, per JCA provider under BCJSSE, for BoringSSL's engine (netty-tcnative, native
 * code: what the channels run on) and SunJSSE's engine through {@link EngineSocket}, and per cipher suite.
 * Prints MiB/s (wall) and the process CPU time per MiB (what counts on a machine whose cores also run the
 * guests).
 * Usage: TlsThroughputBench [MiB per transfer, default 72] [rounds, default 3] [write size, default 65536]
 * [kinds, comma-separated, default all] [suites, comma-separated, default all three]
 * (from bundles/channel: java -cp target/classes:target/test-classes:$(dependency classpath) ...)
 */
public final class TlsThroughputBench {

    static final String[] SUITES = { "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256" };

    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("org.bouncycastle");

    public static void main(String[] args) throws Exception {
        QUIET.setLevel(java.util.logging.Level.WARNING);
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 72;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int chunk = args.length > 2 ? Integer.parseInt(args[2]) : 64 * 1024;
        String only = args.length > 3 ? args[3] : "";
        TestPki pki = new TestPki("bench CA");
        AgentCredentials a = pki.agent("a");
        AgentCredentials b = pki.agent("b");
        Map<String, BiFunction<AgentCredentials, AgentCredentials, Pair>> kinds = new LinkedHashMap<>();
        // BCJSSE as the channels ran on it until 2026-11-28 (new BouncyCastleJsseProvider(): its JcaTlsCryptoProvider
        // takes AES/GCM from the installed JCA providers, i.e. SunJCE with the AES-NI and CLMUL intrinsics)
        kinds.put("bcjsse", jsse(c -> bc(c, new BouncyCastleJsseProvider())));
        // BCJSSE on BouncyCastle's own JCA provider (pure-Java AES and GCM)
        kinds.put("bcjsse+bc-jca", jsse(c -> bc(c, new BouncyCastleJsseProvider(false,
                new JcaTlsCryptoProvider().setProvider(new BouncyCastleProvider())))));
        // the JDK's SunJSSE with the same key, certificate and trust
        kinds.put("sunjsse", jsse(TlsThroughputBench::sun));
        // what the channels run: BoringSSL (native code) through netty-tcnative's SSLEngine, on a socket through
        // EngineSocket; and SunJSSE's engine the same way (the channels' fallback), which also shows what
        // EngineSocket itself costs
        kinds.put("boringssl(channel)", (x, y) -> new Engines(x, y, SslProvider.OPENSSL, false));
        kinds.put("sunjsse(engine)", (x, y) -> new Engines(x, y, SslProvider.JDK, false));
        // the same BoringSSL channel moved through direct buffers (readable()/writable()), as the migration's relays
        // move QEMU's stream: the engine seals from and opens into the caller's buffer, no copy through a byte[]
        kinds.put("boringssl(buffers)", (x, y) -> new Engines(x, y, SslProvider.OPENSSL, true));
        List<String> suites = args.length > 4 ? List.of(args[4].split(",")) : List.of(SUITES);
        System.out.printf("%d MiB one way, %d KiB writes with flush, median of %d rounds (kinds and suites interleaved) "
                + "after 1 warm-up; java %s, %d cpus%n", mib, chunk / 1024, reps, System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors());
        List<String> names = new ArrayList<>();
        Map<String, Pair> contexts = new LinkedHashMap<>();
        Map<String, List<double[]>> runs = new LinkedHashMap<>();
        Map<String, String> defaults = new LinkedHashMap<>();
        Map<String, String> negotiated = new LinkedHashMap<>();
        for (var kind : kinds.entrySet()) {
            if (!only.isEmpty() && !List.of(only.split(",")).contains(kind.getKey())) {
                continue;
            }
            Pair pair = kind.getValue().apply(a, b);
            defaults.put(kind.getKey(), pair.transfer(null, 1, chunk)[3]);
            for (String suite : suites) {
                try {
                    String[] w = pair.transfer(suite, mib, chunk); // warm-up
                    System.out.printf("%-20s %-30s warm-up transfer: %.0f MiB/s, %.2f cpu ms/MiB%n", kind.getKey(), suite,
                            Double.parseDouble(w[0]), Double.parseDouble(w[1]));
                } catch (Exception | Error e) {
                    System.out.printf("%-20s %-30s not offered: %s%n", kind.getKey(), suite, e.getMessage());
                    continue;
                }
                String key = kind.getKey() + " " + suite;
                names.add(key);
                contexts.put(key, pair);
                runs.put(key, new ArrayList<>());
            }
        }
        for (int i = 0; i < reps; i++) {
            for (String key : names) {
                String suite = key.substring(key.indexOf(' ') + 1);
                String[] r = contexts.get(key).transfer(suite, mib, chunk);
                negotiated.put(key, r[3]); // what ran, whatever was asked for
                runs.get(key).add(new double[] { Double.parseDouble(r[0]), Double.parseDouble(r[1]),
                        Double.parseDouble(r[2]) });
            }
        }
        System.out.printf("%-20s %-30s %9s %10s %12s %-24s %s%n", "jsse", "suite", "MiB/s", "cpu ms/MiB",
                "handshake ms", "default suite", "negotiated");
        for (String key : names) {
            String kind = key.substring(0, key.indexOf(' '));
            System.out.printf("%-20s %-30s %9.0f %10.2f %12.1f %-24s %s%n", kind, key.substring(key.indexOf(' ') + 1),
                    median(runs.get(key), 0), median(runs.get(key), 1), median(runs.get(key), 2), defaults.get(kind),
                    negotiated.get(key));
        }
    }

    /** A client and a server of one kind: {MiB/s, cpu ms per MiB, handshake ms, negotiated suite} of a transfer. */
    interface Pair {
        String[] transfer(String suite, int mib, int chunk) throws Exception;
    }

    static BiFunction<AgentCredentials, AgentCredentials, Pair> jsse(Function<AgentCredentials, SSLContext> kind) {
        return (x, y) -> {
            SSLContext client = kind.apply(x);
            SSLContext server = kind.apply(y);
            return (suite, mib, chunk) -> transfer(client, server, suite, mib, chunk);
        };
    }

    /**
     * Netty's SslContexts of one provider, built per suite (a netty context fixes its ciphers when built; BoringSSL
     * ignores a TLS 1.3 suite asked for and picks its own, AES-128-GCM here).
     */
    static final class Engines implements Pair {
        private final AgentCredentials clientCredentials;
        private final AgentCredentials serverCredentials;
        private final SslProvider provider;
        private final boolean buffers;
        private final Map<String, SslContext[]> bySuite = new java.util.HashMap<>();

        Engines(AgentCredentials client, AgentCredentials server, SslProvider provider, boolean buffers) {
            this.clientCredentials = client;
            this.serverCredentials = server;
            this.provider = provider;
            this.buffers = buffers;
        }

        @Override
        public String[] transfer(String suite, int mib, int chunk) throws Exception {
            SslContext[] pair = bySuite.get(String.valueOf(suite));
            if (pair == null) {
                pair = new SslContext[] { context(clientCredentials, false, suite),
                        context(serverCredentials, true, suite) };
                bySuite.put(String.valueOf(suite), pair);
            }
            return engineTransfer(pair[0], pair[1], mib, chunk, buffers);
        }

        private SslContext context(AgentCredentials c, boolean server, String suite) throws SSLException {
            SslContextBuilder b = server ? SslContextBuilder.forServer(c.privateKey(), c.certificateChain())
                    : SslContextBuilder.forClient().keyManager(c.privateKey(), c.certificateChain());
            return b.sslProvider(provider).trustManager(c.trustManager()).clientAuth(ClientAuth.REQUIRE)
                    .protocols(TlsContexts.PROTOCOLS).ciphers(suite == null ? null : List.of(suite)).build();
        }
    }

    static String[] engineTransfer(SslContext client, SslContext server, int mib, int chunk, boolean buffers)
            throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1)) {
            long total = (long) mib << 20;
            CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
                try (SocketChannel raw = listener.accept();
                        EngineSocket s = new EngineSocket(raw, engine(server, false))) {
                    raw.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    s.handshake();
                    return buffers ? receive((java.nio.channels.ReadableByteChannel) s, s.output(), total) : receive(s.input(), s.output(), total);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SocketChannel raw = SocketChannel.open(listener.getLocalAddress());
                    EngineSocket s = new EngineSocket(raw, engine(client, true))) {
                raw.setOption(StandardSocketOptions.TCP_NODELAY, true);
                long h0 = System.nanoTime();
                s.handshake();
                long handshake = System.nanoTime() - h0;
                return buffers ? send((java.nio.channels.WritableByteChannel) s, s.input(), mib, chunk, received, handshake,
                        s.session().getCipherSuite())
                        : send(s.output(), s.input(), mib, chunk, received, handshake, s.session().getCipherSuite());
            }
        }
    }

    static SSLEngine engine(SslContext context, boolean client) {
        SSLEngine e = context.newEngine(ByteBufAllocator.DEFAULT);
        e.setUseClientMode(client);
        return e;
    }

    static double median(List<double[]> runs, int col) {
        double[] v = runs.stream().mapToDouble(r -> r[col]).sorted().toArray();
        return v[v.length / 2];
    }

    /** {MiB/s, cpu ms per MiB, handshake ms, negotiated suite} for one transfer a -> b. */
    static String[] transfer(SSLContext client, SSLContext server, String suite, int mib, int chunk) throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            listener.setNeedClientAuth(true);
            listener.setEnabledProtocols(TlsContexts.PROTOCOLS);
            if (suite != null) {
                listener.setEnabledCipherSuites(new String[] { suite });
            }
            long total = (long) mib << 20;
            CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket s = (SSLSocket) listener.accept()) {
                    s.setTcpNoDelay(true);
                    return receive(s.getInputStream(), s.getOutputStream(), total);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                    listener.getLocalPort())) {
                s.setEnabledProtocols(TlsContexts.PROTOCOLS);
                if (suite != null) {
                    s.setEnabledCipherSuites(new String[] { suite });
                }
                s.setTcpNoDelay(true);
                long h0 = System.nanoTime();
                s.startHandshake();
                long handshake = System.nanoTime() - h0;
                return send(s.getOutputStream(), s.getInputStream(), mib, chunk, received, handshake,
                        s.getSession().getCipherSuite());
            }
        }
    }

    /** The receiving end: reads {@code total} bytes, then answers one byte. */
    static long receive(InputStream in, OutputStream out, long total) throws java.io.IOException {
        byte[] buf = new byte[64 * 1024];
        long n = 0;
        int r;
        while (n < total && (r = in.read(buf)) != -1) {
            n += r;
        }
        out.write(1);
        out.flush();
        return n;
    }

    /** {@link #receive(InputStream, OutputStream, long)} into one direct buffer. */
    static long receive(java.nio.channels.ReadableByteChannel in, OutputStream out, long total)
            throws java.io.IOException {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(256 * 1024);
        long n = 0;
        int r;
        while (n < total && (r = in.read(buf)) != -1) {
            n += r;
            buf.clear();
        }
        out.write(1);
        out.flush();
        return n;
    }

    /** {@link #send(OutputStream, InputStream, int, int, CompletableFuture, long, String)} from a direct buffer. */
    static String[] send(java.nio.channels.WritableByteChannel out, InputStream in, int mib, int chunk,
            CompletableFuture<Long> received, long handshakeNanos, String negotiated) throws Exception {
        byte[] bytes = new byte[chunk];
        new SecureRandom().nextBytes(bytes);
        java.nio.ByteBuffer data = java.nio.ByteBuffer.allocateDirect(chunk).put(bytes).flip();
        return timed(mib, chunk, in, received, handshakeNanos, negotiated, n -> {
            data.clear().limit(n);
            out.write(data);
        });
    }

    /**
     * The sending end, timed: {@code mib} MiB in writes of {@code chunk} bytes with a flush each, until the
     * receiver's answer; {MiB/s, cpu ms per MiB, handshake ms, negotiated suite}.
     */
    static String[] send(OutputStream out, InputStream in, int mib, int chunk, CompletableFuture<Long> received,
            long handshakeNanos, String negotiated) throws Exception {
        byte[] data = new byte[chunk];
        new SecureRandom().nextBytes(data);
        return timed(mib, chunk, in, received, handshakeNanos, negotiated, n -> {
            out.write(data, 0, n);
            out.flush();
        });
    }

    /** Writes of up to {@code n} bytes each. */
    interface Writes {
        void write(int n) throws java.io.IOException;
    }

    /** {@code mib} MiB in writes of {@code chunk}, timed until the receiver's answer. */
    static String[] timed(int mib, int chunk, InputStream in, CompletableFuture<Long> received, long handshakeNanos,
            String negotiated, Writes writes) throws Exception {
        long total = (long) mib << 20;
        long cpu0 = cpu();
        long t0 = System.nanoTime();
        for (long sent = 0; sent < total; sent += chunk) {
            writes.write((int) Math.min(chunk, total - sent));
        }
        in.read(); // the receiver has it all
        long t1 = System.nanoTime();
        long cpu1 = cpu();
        if (received.get() != total) {
            throw new IllegalStateException("short transfer");
        }
        return new String[] { String.valueOf(mib / ((t1 - t0) / 1e9)), String.valueOf((cpu1 - cpu0) / 1e6 / mib),
                String.valueOf(handshakeNanos / 1e6), negotiated };
    }

    static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** An agent's TLS 1.3 context on BCJSSE, with BCJSSE's own key manager (SunJSSE's offers BCJSSE no EC key). */
    static SSLContext bc(AgentCredentials c, BouncyCastleJsseProvider provider) {
        try {
            char[] pw = "x".toCharArray();
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("agent", c.privateKey(), pw, c.certificateChain());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX", provider);
            kmf.init(store, pw);
            SSLContext context = SSLContext.getInstance("TLSv1.3", provider);
            context.init(kmf.getKeyManagers(), new TrustManager[] { c.trustManager() }, new SecureRandom());
            return context;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static SSLContext sun(AgentCredentials c) {
        try {
            char[] pw = "x".toCharArray();
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("agent", c.privateKey(), pw, c.certificateChain());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509", "SunJSSE");
            kmf.init(store, pw);
            SSLContext context = SSLContext.getInstance("TLSv1.3", "SunJSSE");
            context.init(kmf.getKeyManagers(), new TrustManager[] { c.trustManager() }, new SecureRandom());
            return context;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
