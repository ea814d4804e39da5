package io.ferry.itests.protection;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.After;
import org.junit.Test;

import io.ferry.itests.SerialLog;

/**
 * The experiment that explained HotUpdateIT's guest panics (docs/fault-campaign.md), kept so that it can be
 * repeated on another QEMU: plain QEMU, no libvirt, no Ferry. The test guest (TCG) is live-migrated over QMP at
 * 8 MiB/s from QEMU to a fresh {@code -incoming -S} QEMU, hop after hop; after each hop both sides are stopped,
 * so their RAM must be byte-identical, and every page that differs is a guest store the migration lost.
 *
 * <p>Not an IT (failsafe does not pick it up): run it by name,
 * {@code mvn -B -o test-compile failsafe:integration-test -Dit.test=TcgMigrationLossExperiment}. With a RAM size
 * that is not a multiple of 64 pages QEMU takes the dirty-bitmap path that keeps TCG's TLB coherent, and no page
 * may differ (asserted); at 256 MiB (what libvirt always gives: whole MiB) QEMU 7.2 without upstream fix
 * 03bfc2188f loses pages, which it prints ({@code TCG-LOSS} lines) and asserts only when
 * {@code -Dferry.tcg.expect.loss=true}.
 */
public class TcgMigrationLossExperiment {

    private static final int HOPS = Integer.getInteger("ferry.tcg.hops", 6);
    private static final Pattern STATUS = Pattern.compile("\"status\":\\s*\"([a-z-]+)\"");

    private final List<Process> processes = new ArrayList<>();
    private Path dir;

    @After
    public void tearDown() throws IOException {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Test
    public void aRamSizeOffTheFastPathLosesNothing() throws Exception {
        int lost = hops(262_136);
        assertEquals("pages lost with 262136 KiB of RAM (QEMU's slow path)", 0, lost);
    }

    @Test
    public void wholeMibOfRamOnQemu72() throws Exception {
        int lost = hops(262_144);
        if (Boolean.getBoolean("ferry.tcg.expect.loss")) {
            assertTrue("QEMU lost no page in " + HOPS + " hops: fixed?", lost > 0);
        }
    }

    /** Migrates the guest HOPS times at 8 MiB/s; returns the pages that differed, in all. */
    private int hops(int ramKib) throws Exception {
        Path work = Path.of(System.getProperty("ferry.testbed.dir", "../testbed")).resolve("work");
        dir = Files.createTempDirectory("ferry-tcg-loss");
        Path disk = dir.resolve("disk.qcow2");
        Files.copy(work.resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
        SerialLog serial = new SerialLog(dir.resolve("serial.log"));
        Qmp source = start(work, disk, ramKib, 0, null);
        serial.awaitCounter(3, 120_000);
        int total = 0;
        for (int hop = 1; hop <= HOPS; hop++) {
            int port = 47300 + hop;
            Qmp target = start(work, disk, ramKib, hop, "tcp:127.0.0.1:" + port);
            source.call("migrate-set-parameters", "{\"max-bandwidth\": 8388608, \"downtime-limit\": 300}");
            long t0 = System.nanoTime();
            source.call("migrate", "{\"uri\": \"tcp:127.0.0.1:" + port + "\"}");
            String status;
            while (!(status = status(source.call("query-migrate", "{}"))).equals("completed")) {
                assertTrue("hop " + hop + ": " + status, !status.equals("failed") && !status.equals("cancelled"));
                Thread.sleep(200);
            }
            while (!status(target.call("query-migrate", "{}")).equals("completed")) {
                Thread.sleep(100);
            }
            long bytes = (long) ramKib * 1024;
            Path a = dir.resolve("source.mem");
            Path b = dir.resolve("target.mem");
            source.call("pmemsave", "{\"val\": 0, \"size\": " + bytes + ", \"filename\": \"" + a + "\"}");
            target.call("pmemsave", "{\"val\": 0, \"size\": " + bytes + ", \"filename\": \"" + b + "\"}");
            List<Long> pages = differingPages(a, b);
            total += pages.size();
            System.out.printf("TCG-LOSS ram_kib=%d hop=%d migration_ms=%d differing_pages=%d %s%n", ramKib, hop,
                    (System.nanoTime() - t0) / 1_000_000, pages.size(),
                    pages.stream().limit(8).map(p -> "0x" + Long.toHexString(p)).toList());
            source.call("quit", "{}");
            target.call("cont", "{}");
            long before = serial.lastCounter();
            serial.awaitCounter(before + 4, 30_000); // the guest runs on where it arrived
            source = target;
        }
        source.call("quit", "{}");
        System.out.printf("TCG-LOSS ram_kib=%d hops=%d differing_pages=%d boots=%d%n", ramKib, HOPS, total,
                serial.boots());
        return total;
    }

    private Qmp start(Path work, Path disk, int ramKib, int index, String incoming) throws Exception {
        Path socket = dir.resolve("qmp" + index);
        List<String> cmd = new ArrayList<>(Arrays.asList("qemu-system-x86_64", "-machine", "pc,accel=tcg", "-cpu",
                "qemu64", "-m", ramKib + "k", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
                "-kernel", work.resolve("guest/vmlinuz").toString(), "-initrd",
                work.resolve("guest/initrd.img").toString(), "-append", "console=ttyS0 quiet nokaslr", "-chardev",
                "file,id=s0,path=" + dir.resolve("serial.log") + ",append=on", "-serial", "chardev:s0", "-drive",
                "file=" + disk + ",if=virtio,cache=none,format=qcow2", "-qmp", "unix:" + socket + ",server=on,wait=off"));
        if (incoming != null) {
            cmd.addAll(List.of("-S", "-incoming", incoming));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("qemu" + index + ".out").toFile()).start();
        processes.add(p);
        for (int i = 0; i < 100 && !Files.exists(socket); i++) {
            Thread.sleep(100);
        }
        return new Qmp(socket);
    }

    private static String status(String reply) {
        Matcher m = STATUS.matcher(reply);
        return m.find() ? m.group(1) : "none";
    }

    private static List<Long> differingPages(Path a, Path b) throws IOException {
        List<Long> pages = new ArrayList<>();
        try (InputStream x = Files.newInputStream(a); InputStream y = Files.newInputStream(b)) {
            byte[] p = new byte[4096];
            byte[] q = new byte[4096];
            for (long off = 0;; off += 4096) {
                int n = x.readNBytes(p, 0, 4096);
                int m = y.readNBytes(q, 0, 4096);
                if (n == 0 && m == 0) {
                    return pages;
                }
                if (n != m || !Arrays.equals(p, 0, n, q, 0, m)) {
                    pages.add(off);
                }
            }
        }
    }

    /** A minimal QMP client: one command at a time, events skipped. */
    private static final class Qmp {
        private final BufferedReader in;
        private final OutputStream out;

        Qmp(Path socket) throws IOException, InterruptedException {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
            in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            out = Channels.newOutputStream(ch);
            in.readLine(); // greeting
            call("qmp_capabilities", "{}");
        }

        String call(String command, String arguments) throws IOException, InterruptedException {
            out.write(("{\"execute\": \"" + command + "\", \"arguments\": " + arguments + "}\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            for (String line; (line = in.readLine()) != null;) {
                if (line.contains("\"error\"")) {
                    throw new IllegalStateException(command + ": " + line);
                }
                if (line.contains("\"return\"")) {
                    return line;
                }
            }
            if (command.equals("quit")) {
                TimeUnit.MILLISECONDS.sleep(100);
                return "";
            }
            throw new IOException(command + ": QMP closed");
        }
    }
}
