package io.ferry.itests.checkpoint;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.annotation.Annotation;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.api.checkpoint.CheckpointRecord;
import io.ferry.api.checkpoint.CheckpointSettings;
import io.ferry.api.checkpoint.Compression;
import io.ferry.api.checkpoint.RecoveryResult;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.channel.testing.TestPki;
import io.ferry.checkpoint.internal.CheckpointCodec;
import io.ferry.checkpoint.internal.CheckpointConfig;
import io.ferry.checkpoint.internal.CheckpointService;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;
import io.ferry.itests.TestbedHypervisors;

/**
 * Run by bench/run checkpoint. The test guest (256 MiB, TCG) runs on host A; per compression
 * (none, gzip, zstd, lz4) Ferry checkpoints it three times to a fresh backup agent of host B
 * (the first whole, then with disk deltas), then recovers it on B from the latest: checkpoint
 * size, time, guest pause and recovery time side by side. Then two memory images taken 5 s apart
 * are compressed in Java with each codec and with zstd using the previous image as dictionary
 * (the incremental memory candidate): size and time on a real image.
 */
public final class CheckpointBenchmark {

    private static final Compression[] KINDS = {Compression.NONE, Compression.GZIP, Compression.ZSTD, Compression.LZ4};

    public static void main(String[] args) throws Exception {
        String[] hosts = args.length > 1 ? new String[] {args[0], args[1]} : new String[] {"cpa", "cpb"};
        Testbed testbed = Testbed.load();
        LibvirtHypervisor a = TestbedHypervisors.connect(hosts[0], testbed.hostUri(hosts[0]));
        LibvirtHypervisor b = TestbedHypervisors.connect(hosts[1], testbed.hostUri(hosts[1]));
        String name = "bench-cp";
        Path vms = Files.createDirectories(testbed.work().resolve("vms"));
        Path work = Files.createDirectories(vms.resolve(name + "-agents"));
        for (LibvirtHypervisor h : new LibvirtHypervisor[] {a, b}) {
            if (h.exists(name)) {
                if (h.domain(name).state().isActive()) {
                    h.stop(name, true);
                }
                if (h.domain(name).persistent()) {
                    h.undefine(name);
                }
            }
        }
        Path disk = vms.resolve(name + ".qcow2");
        Files.copy(testbed.work().resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
        Path serial = vms.resolve(name + ".log");
        Files.deleteIfExists(serial);
        a.define(testbed.guestXml(name, disk, serial));
        a.start(name);
        SerialLog log = new SerialLog(serial);
        log.awaitCounter(5, 180_000);

        TestPki pki = new TestPki("bench CA");
        TlsAgentChannels laptop = TestChannels.start(pki.agent("laptop"));
        Duration interval = Duration.ofSeconds(Long.getLong("ferry.bench.interval", 10));
        long window = Long.getLong("ferry.bench.window", 60) * 1000;
        // what runs side by side: no checkpoints, then each compression with whole checkpoints, then zstd incremental
        List<String> modes = List.of("off", "none", "gzip", "zstd", "lz4", "zstd+incremental");
        Map<String, List<CheckpointRecord>> records = new LinkedHashMap<>();
        Map<String, RecoveryResult> recoveries = new LinkedHashMap<>();
        Map<String, Double> progress = new LinkedHashMap<>();
        for (String mode : modes) {
            if (mode.equals("off")) {
                int before = log.counters().size();
                Thread.sleep(window);
                progress.put(mode, (log.counters().size() - before) * 1000.0 / window);
                System.out.printf("%-16s progress %.2f counter lines/s%n", mode, progress.get(mode));
                continue;
            }
            boolean incremental = mode.endsWith("+incremental");
            Compression c = Compression.valueOf(mode.replace("+incremental", "").toUpperCase());
            String backupId = "handheld-" + mode.replace('+', '-');
            TlsAgentChannels handheld = TestChannels.start(pki.agent(backupId));
            CheckpointService primary = new CheckpointService(config(work.resolve("laptop-" + backupId), hosts[0]),
                    laptop, new CheckpointITSeal(), h -> h.equals(hosts[0]) ? a : null, () -> witness("laptop"));
            CheckpointService backup = new CheckpointService(config(work.resolve(backupId), hosts[1]), handheld,
                    new CheckpointITSeal(), h -> h.equals(hosts[1]) ? b : null, () -> witness(backupId));
            handheld.addHandler(backup, Map.of(ChannelHandler.PURPOSE, CheckpointService.PURPOSE));
            try {
                int before = log.counters().size();
                long t0 = System.currentTimeMillis();
                primary.enable(new CheckpointSettings(name, hosts[0], new AgentAddress(backupId, "127.0.0.1",
                        handheld.port()), interval, c, incremental));
                Map<Long, CheckpointRecord> taken = new java.util.TreeMap<>();
                while (System.currentTimeMillis() - t0 < window) {
                    for (io.ferry.api.checkpoint.CheckpointStatus st : primary.status()) {
                        if (st.last() != null) {
                            taken.put(st.last().sequence(), st.last());
                        }
                    }
                    Thread.sleep(100);
                }
                progress.put(mode, (log.counters().size() - before) * 1000.0 / (System.currentTimeMillis() - t0));
                primary.disable(name);
                List<CheckpointRecord> rs = new ArrayList<>(taken.values());
                records.put(mode, rs);
                RecoveryResult r = backup.recover(name, hosts[1], (s, p) -> { });
                recoveries.put(mode, r);
                b.stop(name, true);
                if (b.exists(name) && b.domain(name).persistent()) {
                    b.undefine(name);
                }
                for (CheckpointRecord x : rs) {
                    System.out.printf("%-16s checkpoint %d: raw %6.1f MiB, sent %6.2f MiB (%.3f), %5d ms, pause %3d ms, %s%n",
                            mode, x.sequence(), x.rawBytes() / 1048576.0, x.sentBytes() / 1048576.0, x.ratio(),
                            x.durationMillis(), x.pauseMillis(), x.incremental() ? "incremental" : "whole");
                }
                System.out.printf("%-16s progress %.2f counter lines/s; recovery from checkpoint %d: %d ms%n", mode,
                        progress.get(mode), r.sequence(), r.recoveryMillis());
            } finally {
                primary.close();
                backup.close();
                handheld.close();
            }
        }

        // two real memory images 5 s apart, compressed side by side, and as a memory delta (then zstd)
        Path m1 = work.resolve("m1.mem");
        Path m2 = work.resolve("m2.mem");
        a.snapshotWithMemory(name, "b1", m1, vms);
        Thread.sleep(5000);
        a.snapshotWithMemory(name, "b2", m2, vms);
        long raw = Files.size(m2);
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Map<String, long[]> codec = new LinkedHashMap<>();
        for (Compression c : KINDS) {
            codec.put(c.name().toLowerCase(), encode(c, null, m2, raw, key, work));
        }
        Path delta = work.resolve("m2.delta");
        long d0 = System.nanoTime();
        long deltaBytes = CheckpointCodec.memoryDelta(m1, m2, delta);
        long deltaMillis = (System.nanoTime() - d0) / 1_000_000;
        long[] deltaZstd = encode(Compression.ZSTD, null, delta, deltaBytes, key, work);
        deltaZstd[1] += deltaMillis;
        codec.put("delta+zstd", deltaZstd);
        System.out.printf("memory image %.1f MiB (256 MiB guest), delta on the image 5 s before %.2f MiB (%d ms):%n",
                raw / 1048576.0, deltaBytes / 1048576.0, deltaMillis);
        for (Map.Entry<String, long[]> e : codec.entrySet()) {
            System.out.printf("  %-14s %6.2f MiB  ratio %.3f  compress+seal %5d ms  open+decompress %5d ms%n",
                    e.getKey(), e.getValue()[0] / 1048576.0, e.getValue()[0] / (double) raw, e.getValue()[1],
                    e.getValue()[2]);
        }
        a.stop(name, true);
        a.undefine(name);
        laptop.close();
        try (var files = Files.walk(work)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
        try (var files = Files.list(vms)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith(name)).toList()) {
                Files.deleteIfExists(f);
            }
        }
        // sizes: the steady state (the last checkpoint of each mode) against whole and uncompressed ("raw")
        double rawSize = last(records, "none").sentBytes();
        double rawRecovery = recoveries.get("none").recoveryMillis();
        CheckpointRecord zstd = last(records, "zstd");
        CheckpointRecord incr = last(records, "zstd+incremental");
        double off = progress.get("off");
        double overhead = 1 - progress.get("zstd") / off;
        double overheadIncr = 1 - progress.get("zstd+incremental") / off;
        double scale = interval.toMillis() / 90_000.0;
        System.out.printf("checkpoint: size zstd %.2f x raw, zstd+incremental %.3f x raw; recovery zstd %.2f x raw, "
                + "gzip %.2f, lz4 %.2f, incremental %.2f; progress every %d s: zstd %.3f, incremental %.3f x no "
                + "checkpoints (overhead at 90 s ~%.1f %% / %.1f %%); pause %d ms%n",
                zstd.sentBytes() / rawSize, incr.sentBytes() / rawSize,
                recoveries.get("zstd").recoveryMillis() / rawRecovery,
                recoveries.get("gzip").recoveryMillis() / rawRecovery,
                recoveries.get("lz4").recoveryMillis() / rawRecovery,
                recoveries.get("zstd+incremental").recoveryMillis() / rawRecovery, interval.toSeconds(),
                progress.get("zstd") / off, progress.get("zstd+incremental") / off,
                Math.max(0, overhead) * scale * 100, Math.max(0, overheadIncr) * scale * 100, incr.pauseMillis());
        System.exit(0);
    }

    private static CheckpointRecord last(Map<String, List<CheckpointRecord>> records, String mode) {
        List<CheckpointRecord> rs = records.get(mode);
        if (rs.isEmpty()) {
            throw new IllegalStateException("no checkpoint of mode " + mode);
        }
        return rs.get(rs.size() - 1);
    }

    private static long[] encode(Compression c, byte[] dictionary, Path memory, long raw, byte[] key, Path work)
            throws IOException {
        Path out = work.resolve("enc-" + c);
        long t0 = System.nanoTime();
        long size;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(memory), 1 << 16);
                OutputStream o = new BufferedOutputStream(Files.newOutputStream(out), 1 << 16)) {
            size = CheckpointCodec.write(c, dictionary, in, raw, key, o);
        }
        long t1 = System.nanoTime();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(out), 1 << 16)) {
            CheckpointCodec.read(in, key, dictionary, OutputStream.nullOutputStream());
        }
        long t2 = System.nanoTime();
        Files.delete(out);
        return new long[] {size, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000};
    }

    /** A witness that grants each agent the lease it asks for (the bench measures checkpoints, not fencing). */
    private static ItCenterLink witness(String agent) {
        return new ItCenterLink() {
            @Override
            public URI uri() {
                return URI.create("https://witness.bench/");
            }

            @Override
            public boolean enrolled() {
                return true;
            }

            @Override
            public String call(String method, String path, String json, Duration timeout) {
                String vm = path.startsWith("leases/") ? path.split("/")[1] : "";
                return "{\"vm\":\"" + vm + "\",\"holder\":\"" + agent + "\",\"epoch\":1,\"expired\":false}";
            }
        };
    }

    private static CheckpointConfig config(Path root, String host) {
        return new CheckpointConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return CheckpointConfig.class;
            }

            @Override
            public String store_dir() {
                return root.resolve("store").toString();
            }

            @Override
            public String work_dir() {
                return root.resolve("work").toString();
            }

            @Override
            public String qemu_img() {
                return "qemu-img";
            }

            @Override
            public String recovery_host() {
                return host;
            }

            @Override
            public long heartbeat_interval_ms() {
                return 1000;
            }

            @Override
            public long failure_timeout_ms() {
                return 600_000;
            }

            @Override
            public int lease_ttl_s() {
                return 30;
            }

            @Override
            public String failover() {
                return "manual";
            }

            @Override
            public String itcenter_unreachable() {
                return "safety";
            }

            @Override
            public String fence() {
                return "watchdog"; // as deployed: the fencing watchdog runs beside the guest
            }

            @Override
            public String virsh() {
                return "virsh";
            }

            @Override
            public String qemu_pid_dir() {
                return io.ferry.itests.Testbed.load().work().resolve("hosts").resolve(host).resolve("run/qemu").toString(); // the host's libvirtd writes it in its own mount namespace
            }

            @Override
            public long max_checkpoint_bytes() {
                return 1L << 32;
            }
        };
    }

    /** Seal storage as a map. */
    static final class CheckpointITSeal implements io.ferry.api.seal.SealStorage {
        private final Map<String, byte[]> secrets = new HashMap<>();

        @Override
        public io.ferry.api.seal.SealStatus status() {
            throw new UnsupportedOperationException();
        }

        @Override
        public synchronized List<String> list() {
            return new ArrayList<>(secrets.keySet());
        }

        @Override
        public synchronized void put(String n, byte[] s) {
            secrets.put(n, s.clone());
        }

        @Override
        public synchronized byte[] get(String n) {
            byte[] s = secrets.get(n);
            if (s == null) {
                throw new io.ferry.api.seal.SealException("get", n, io.ferry.api.seal.SealException.Reason.NO_SUCH_SECRET,
                        "no secret " + n);
            }
            return s.clone();
        }

        @Override
        public synchronized boolean delete(String n) {
            return secrets.remove(n) != null;
        }

        @Override
        public io.ferry.api.seal.ApprovalRequest approvalRequest() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void approve(io.ferry.api.seal.Approval a) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void rotate(io.ferry.api.seal.Approval a) {
            throw new UnsupportedOperationException();
        }
    }
}
