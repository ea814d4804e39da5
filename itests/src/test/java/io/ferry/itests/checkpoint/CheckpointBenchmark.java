package io.ferry.itests.checkpoint;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.ferry.api.checkpoint.CheckpointRecord;
import io.ferry.api.checkpoint.CheckpointSettings;
import io.ferry.api.checkpoint.CheckpointStatus;
import io.ferry.api.checkpoint.Compression;
import io.ferry.api.checkpoint.RecoveryResult;
import io.ferry.channel.testing.TestPki;
import io.ferry.checkpoint.internal.CheckpointCodec;
import io.ferry.checkpoint.internal.CheckpointService;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;
import io.ferry.itests.TestbedHypervisors;

/**
 * Run by bench/run checkpoint. The test guest (256 MiB, TCG) starts on host A and runs 60 s without checkpoints;
 * then per mode (whole checkpoints with none, gzip, zstd, lz4; zstd incremental) its agent checkpoints it every
 * 10 s for 60 s to a fresh backup agent on the other host — guest progress, size on the wire, time, guest pause side
 * by side — and hands it over as on the loss of the primary: its agent is killed, the fencing watchdog kills the
 * guest's QEMU before the lease expires, the backup takes the expired lease over and recovers the guest from its
 * latest checkpoint (recovery time); the agent that recovered it is the primary of the next mode, so the guest
 * alternates between A and B. Every agent asks one shared in-JVM {@link LeaseWitness} with the IT center's lease
 * semantics, so the backup's SenderCheck and takeover rules apply as with the real IT center. Then two memory images
 * taken 5 s apart are compressed with each codec and as a memory delta: size and time on a real image.
 */
public final class CheckpointBenchmark {

    private static final Compression[] KINDS = {Compression.NONE, Compression.GZIP, Compression.ZSTD, Compression.LZ4};
    /** Heartbeats every second, no recovery but the bench's own (manual, failure timeout 10 min), 30 s leases (-Dferry.bench.lease). */
    private static final Map<String, Object> CONFIG = Map.of("heartbeat_interval_ms", 1000L, "failure_timeout_ms",
            600_000L, "lease_ttl_s", 30, "failover", "manual");

    public static void main(String[] args) throws Exception {
        String[] hosts = args.length > 1 ? new String[] {args[0], args[1]} : new String[] {"cpa", "cpb"};
        Testbed testbed = Testbed.load();
        LibvirtHypervisor a = TestbedHypervisors.connect(hosts[0], testbed.hostUri(hosts[0]));
        LibvirtHypervisor b = TestbedHypervisors.connect(hosts[1], testbed.hostUri(hosts[1]));
        String name = "bench-cp";
        Path vms = Files.createDirectories(testbed.work().resolve("vms"));
        Path work = Files.createDirectories(vms.resolve(name + "-agents"));
        CheckpointFixtures.removeGuest(a, name);
        CheckpointFixtures.removeGuest(b, name);
        SerialLog log = CheckpointFixtures.startGuest(testbed, a, name);
        log.awaitCounter(5, 180_000);

        TestPki pki = new TestPki("bench CA");
        Duration interval = Duration.ofSeconds(Long.getLong("ferry.bench.interval", 10));
        long window = Long.getLong("ferry.bench.window", 60) * 1000;
        Map<String, Object> config = new LinkedHashMap<>(CONFIG);
        config.put("lease_ttl_s", Integer.getInteger("ferry.bench.lease", 30));
        // one witness for every agent of the run, as the IT center is (see LeaseWitness)
        LeaseWitness witness = new LeaseWitness();
        LibvirtHypervisor[] host = {a, b};
        int at = 0; // where the guest runs: it moves at each hand-over
        List<CheckpointAgent> agents = new ArrayList<>();
        CheckpointAgent primary = agent(pki, "laptop", a, work, witness, config);
        agents.add(primary);
        // what runs side by side: no checkpoints, then each compression with whole checkpoints, then zstd incremental
        List<String> modes = List.of("off", "none", "gzip", "zstd", "lz4", "zstd+incremental");
        Map<String, List<CheckpointRecord>> records = new LinkedHashMap<>();
        Map<String, RecoveryResult> recoveries = new LinkedHashMap<>();
        Map<String, Double> progress = new LinkedHashMap<>();
        List<Long> fencedAfter = new ArrayList<>();
        List<Long> expiredAfter = new ArrayList<>();
        try {
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
                int to = 1 - at;
                // a fresh backup on the other host for each mode; the primary is the agent the guest runs under
                CheckpointAgent backup = agent(pki, "backup-" + mode.replace('+', '-'), host[to], work, witness, config);
                agents.add(backup);
                int before = log.counters().size();
                long t0 = System.currentTimeMillis();
                primary.service.enable(new CheckpointSettings(name, hosts[at], backup.address(), interval, c,
                        incremental));
                Map<Long, CheckpointRecord> taken = new TreeMap<>();
                while (System.currentTimeMillis() - t0 < window) {
                    for (CheckpointStatus st : primary.service.status()) {
                        if (st.role() == CheckpointStatus.Role.PRIMARY && st.vm().equals(name) && st.last() != null) {
                            taken.put(st.last().sequence(), st.last());
                        }
                    }
                    Thread.sleep(100);
                }
                progress.put(mode, (log.counters().size() - before) * 1000.0 / (System.currentTimeMillis() - t0));
                List<CheckpointRecord> rs = new ArrayList<>(taken.values());
                records.put(mode, rs);
                // the hand-over as on the loss of the primary: its agent dies; the fencing watchdog kills the
                // guest's QEMU there before the lease can expire; once it expired the backup takes it over and
                // recovers from its latest checkpoint
                int printed = log.counters().size();
                String[] handOver = handOver(primary, witness, name, host[at]);
                long fenced = Long.parseLong(handOver[0]);
                fencedAfter.add(fenced);
                expiredAfter.add(Long.parseLong(handOver[1]));
                RecoveryResult r = backup.service.recover(name, hosts[to], (s, p) -> { });
                recoveries.put(mode, r);
                // the fenced copy's definition is left on the old host, shut off: cleared before it serves as backup
                CheckpointFixtures.removeGuest(host[at], name);
                for (CheckpointRecord x : rs) {
                    System.out.printf("%-16s checkpoint %d: raw %6.1f MiB, sent %6.2f MiB (%.3f), %5d ms, pause %3d ms, %s%n",
                            mode, x.sequence(), x.rawBytes() / 1048576.0, x.sentBytes() / 1048576.0, x.ratio(),
                            x.durationMillis(), x.pauseMillis(), x.incremental() ? "incremental" : "whole");
                }
                System.out.printf("%-16s progress %.2f counter lines/s (on %s); primary agent killed: QEMU fenced "
                        + "after %d ms, lease expired after %s ms; recovery on %s from checkpoint %d at epoch %d: "
                        + "%d ms%n", mode, progress.get(mode), hosts[at], fenced, handOver[1], hosts[to],
                        r.sequence(), r.epoch(), r.recoveryMillis());
                // the agent that recovered the guest protects it onwards (checkpoint:enable on its new primary)
                primary = backup;
                at = to;
                // the recovered guest counts on before the next mode starts
                long wait = System.currentTimeMillis() + 60_000;
                while (log.counters().size() < printed + 3) {
                    if (System.currentTimeMillis() > wait) {
                        throw new IllegalStateException("the recovered guest does not count on:\n" + log.tail());
                    }
                    Thread.sleep(200);
                }
            }
        } finally {
            for (CheckpointAgent x : agents) {
                try {
                    x.service.disable(name); // a live primary's fencing watchdog stands down
                } catch (RuntimeException ignored) {
                    // not a primary of it (the usual case)
                }
                x.kill();
            }
        }
        LibvirtHypervisor on = host[at];

        // two real memory images 5 s apart, compressed side by side, and as a memory delta (then zstd)
        Path m1 = work.resolve("m1.mem");
        Path m2 = work.resolve("m2.mem");
        on.snapshotWithMemory(name, "b1", m1, vms);
        Thread.sleep(5000);
        on.snapshotWithMemory(name, "b2", m2, vms);
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
        CheckpointFixtures.removeGuest(on, name);
        CheckpointFixtures.deleteTree(work);
        CheckpointFixtures.deleteGuestFiles(testbed, List.of(name));
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
                + "checkpoints (overhead at 90 s ~%.1f %% / %.1f %%); pause %d ms; hand-over (agent killed, %d s lease): "
                + "QEMU fenced %.1f-%.1f s, lease expired %.1f-%.1f s after%n",
                zstd.sentBytes() / rawSize, incr.sentBytes() / rawSize,
                recoveries.get("zstd").recoveryMillis() / rawRecovery,
                recoveries.get("gzip").recoveryMillis() / rawRecovery,
                recoveries.get("lz4").recoveryMillis() / rawRecovery,
                recoveries.get("zstd+incremental").recoveryMillis() / rawRecovery, interval.toSeconds(),
                progress.get("zstd") / off, progress.get("zstd+incremental") / off,
                Math.max(0, overhead) * scale * 100, Math.max(0, overheadIncr) * scale * 100, incr.pauseMillis(),
                config.get("lease_ttl_s"), min(fencedAfter), max(fencedAfter), min(expiredAfter), max(expiredAfter));
        System.exit(0);
    }

    private static double min(List<Long> millis) {
        return millis.stream().mapToLong(Long::longValue).min().orElse(-1) / 1000.0;
    }

    private static double max(List<Long> millis) {
        return millis.stream().mapToLong(Long::longValue).max().orElse(-1) / 1000.0;
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

    /** An agent of this run on {@code host}, its folders under {@code work}, reaching the shared witness as itself. */
    private static CheckpointAgent agent(TestPki pki, String id, LibvirtHypervisor host, Path work, LeaseWitness witness,
            Map<String, Object> config) throws Exception {
        return new CheckpointAgent(pki.agent(id), host, work.resolve(id), seal -> witness.link(id), config);
    }

    /**
     * Kills the primary's agent (as kill -9: its threads stop, its connections break, its fencing watchdog — a
     * separate process — stays) and waits until the witness says its lease expired. Returns the ms after the kill
     * when the guest's QEMU on {@code old} was gone (the watchdog's SIGKILL), and when the lease expired. Fails
     * when the guest still runs there once the lease expired: two copies could run after a takeover.
     */
    private static String[] handOver(CheckpointAgent primary, LeaseWitness witness, String vm, LibvirtHypervisor old)
            throws Exception {
        String lease = witness.holder(vm);
        if (lease == null || !lease.startsWith(primary.id + "@")) {
            throw new IllegalStateException("the lease of " + vm + " is " + lease + ", not held by " + primary.id);
        }
        long t0 = System.nanoTime();
        primary.kill();
        long fenced = -1;
        long expired = -1;
        long limit = t0 + Duration.ofSeconds(120).toNanos();
        while (fenced < 0 || expired < 0) {
            long now = System.nanoTime();
            if (fenced < 0 && !(old.exists(vm) && old.domain(vm).state().isActive())) {
                fenced = (now - t0) / 1_000_000;
            }
            if (expired < 0 && witness.expired(vm)) {
                expired = (now - t0) / 1_000_000;
                if (fenced < 0) {
                    throw new IllegalStateException(vm + " still runs on " + old.hostName() + " " + expired
                            + " ms after its agent died, when its lease " + lease + " expired: not fenced");
                }
            }
            if (now > limit) {
                throw new IllegalStateException("no hand-over of " + vm + " within 120 s: lease " + witness.holder(vm));
            }
            Thread.sleep(20);
        }
        return new String[] {Long.toString(fenced), Long.toString(expired)};
    }
}
