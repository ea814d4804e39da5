package io.ferry.migration.internal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.channel.testing.TestPki;

/**
 * A side-by-side micro benchmark of the migration transport without libvirt (a main class run by hand,
 * not a test): a client standing in for the source libvirtd pushes bulk data in 256 KiB writes, then
 * 1 KiB request/answer pairs, to a sink standing in for the target libvirtd, alternately over plain
 * loopback TCP and through {@link Relay}, a real agent channel and {@link LibvirtTunnelHandler}
 * (one JVM holds both agents, so the CPU counted is source and target together). Prints per round and
 * as medians: MiB/s, this process's CPU per MiB (user and system, from /proc/self/stat), thread context
 * switches per MiB (from /proc/self/task/N/status) and the request/answer round trip.
 * Usage (from bundles/migration, after mvn install): java -cp target/classes:target/test-classes:$(mvn -q
 * dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout) io.ferry.migration.internal.RelayChainBench [MiB 72] [rounds 8]
 */
public final class RelayChainBench {

    private static final String[] KINDS = { "plain", "relayed" };

    public static void main(String[] args) throws Exception {
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 72;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        try (ServerSocket sink = new ServerSocket(0)) {
            Thread t = new Thread(() -> serve(sink), "sink");
            t.setDaemon(true);
            t.start();
            TestPki pki = new TestPki("bench CA");
            TlsAgentChannels source = TestChannels.start(pki.agent("src"));
            TlsAgentChannels target = TestChannels.start(pki.agent("dst"));
            LibvirtTunnelHandler tunnel = new LibvirtTunnelHandler(new InetSocketAddress("127.0.0.1", sink.getLocalPort()));
            target.addHandler(tunnel, Map.of(ChannelHandler.PURPOSE, LibvirtTunnelHandler.PURPOSE));
            AgentAddress dst = new AgentAddress("dst", "127.0.0.1", target.port());
            List<List<double[]>> runs = List.of(new ArrayList<>(), new ArrayList<>());
            System.out.printf("%d MiB in 256 KiB writes, then 400 round trips of 1 KiB; rounds -2 and -1 warm up%n", mib);
            for (int i = -2; i < rounds; i++) {
                double[] p = run(sink.getLocalPort(), mib);
                double[] r;
                try (Relay relay = Relay.libvirt(source, dst, Duration.ofSeconds(10))) {
                    r = run(URI.create(relay.libvirtUri()).getPort(), mib);
                }
                System.out.printf("round %2d: %s | %s%n", i, line("plain", p), line("relayed", r));
                if (i >= 0) {
                    runs.get(0).add(p);
                    runs.get(1).add(r);
                }
            }
            System.out.printf("%nmedians of %d rounds%n%-8s %8s %11s %12s %12s %14s %9s%n", rounds, "path", "MiB/s",
                    "cpu ms/MiB", "user ms/MiB", "sys ms/MiB", "ctx sw/MiB", "rtt us");
            for (int k = 0; k < KINDS.length; k++) {
                List<double[]> v = runs.get(k);
                System.out.printf("%-8s %8.0f %11.2f %12.2f %12.2f %14.0f %9.0f%n", KINDS[k], median(v, 0), median(v, 1),
                        median(v, 2), median(v, 3), median(v, 4), median(v, 5));
            }
            source.close();
            target.close();
            tunnel.close();
        }
    }

    private static String line(String kind, double[] r) {
        return String.format("%s %4.0f MiB/s %5.2f cpu ms/MiB %5.0f ctx/MiB rtt %4.0f us", kind, r[0], r[1], r[4], r[5]);
    }

    private static double median(List<double[]> runs, int col) {
        double[] v = runs.stream().mapToDouble(r -> r[col]).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** Per connection: a u64 count of bulk bytes, the bytes, a 1-byte answer; then echoes 1 KiB messages. */
    private static void serve(ServerSocket sink) {
        while (!sink.isClosed()) {
            Socket s;
            try {
                s = sink.accept();
            } catch (IOException e) {
                return;
            }
            Thread h = new Thread(() -> {
                try (s) {
                    s.setTcpNoDelay(true);
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    OutputStream out = s.getOutputStream();
                    long n = in.readLong();
                    byte[] buf = new byte[256 * 1024];
                    while (n > 0) {
                        int r = in.read(buf, 0, (int) Math.min(buf.length, n));
                        if (r < 0) {
                            return;
                        }
                        n -= r;
                    }
                    out.write(1);
                    out.flush();
                    byte[] msg = new byte[1024];
                    while (true) {
                        in.readFully(msg);
                        out.write(msg);
                        out.flush();
                    }
                } catch (IOException e) {
                    // the client is done
                }
            }, "sink-connection");
            h.setDaemon(true);
            h.start();
        }
    }

    /** {MiB/s, cpu ms/MiB, user ms/MiB, sys ms/MiB, context switches/MiB, median rtt us} of one connection. */
    private static double[] run(int port, int mib) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            long total = (long) mib << 20;
            byte[] data = new byte[256 * 1024];
            new Random(1).nextBytes(data);
            long[] t0 = times();
            long c0 = contextSwitches();
            long w0 = System.nanoTime();
            new DataOutputStream(out).writeLong(total);
            for (long sent = 0; sent < total; sent += data.length) {
                out.write(data, 0, (int) Math.min(data.length, total - sent));
            }
            if (in.read() != 1) {
                throw new IllegalStateException("no answer from the sink");
            }
            long w1 = System.nanoTime();
            long c1 = contextSwitches();
            long[] t1 = times();
            byte[] msg = new byte[1024];
            long[] rtt = new long[400];
            DataInputStream din = new DataInputStream(in);
            for (int i = 0; i < rtt.length; i++) {
                long r0 = System.nanoTime();
                out.write(msg);
                out.flush();
                din.readFully(msg);
                rtt[i] = System.nanoTime() - r0;
            }
            Arrays.sort(rtt);
            double user = (t1[0] - t0[0]) * 10.0 / mib;
            double sys = (t1[1] - t0[1]) * 10.0 / mib;
            return new double[] { mib / ((w1 - w0) / 1e9), user + sys, user, sys, (double) (c1 - c0) / mib,
                    rtt[rtt.length / 2] / 1e3 };
        }
    }

    /** utime and stime of this process in clock ticks (10 ms each on Linux). */
    private static long[] times() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[] { Long.parseLong(f[11]), Long.parseLong(f[12]) };
    }

    /** Voluntary and involuntary context switches of all this process's threads. */
    private static long contextSwitches() throws IOException {
        long sum = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    for (String l : Files.readAllLines(task.resolve("status"))) {
                        if (l.startsWith("voluntary_ctxt_switches") || l.startsWith("nonvoluntary_ctxt_switches")) {
                            sum += Long.parseLong(l.substring(l.indexOf(':') + 1).trim());
                        }
                    }
                } catch (IOException e) {
                    // a thread that ended meanwhile
                }
            }
        }
        return sum;
    }
}
