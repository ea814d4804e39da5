package io.ferry.itests.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import io.ferry.api.hypervisor.MigrationListener;
import io.ferry.api.hypervisor.MigrationOptions;
import io.ferry.api.hypervisor.MigrationResult;
import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.MigrationRequest;
import io.ferry.api.migration.ProgressListener;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;
import io.ferry.itests.TestbedHypervisors;
import io.ferry.itests.transport.SecureAgent;
import io.ferry.itests.transport.TestItCenter;

/**
 * Run by bench/run migration-secure: the test guest moves live back and forth between two testbed
 * hosts, alternating plain libvirt migration (what vm:migrate does: peer-to-peer, tunnelled over
 * libvirt's own TCP connection) and Ferry's secure migration (policy decision, mutual attestation on
 * the channel, integrity check, policy handover and confirmation, the VM state inside agent
 * channels). Prints total time and downtime of each, the secure migration's preparation (the phase
 * before memory moves), the medians, and the ratio secure/plain. The secure migration's
 * preparation includes the real peer attestation both ways (the IT center's nonce and verdict, in
 * this JVM: no HTTPS round trip), the real integrity check of the guest's kernel text, the policy
 * decisions and handover (see {@link SecureAgent}).
 *
 * <p>Hypervisor protection runs as on an agent: periodic rounds on both agents every
 * {@code -Dferry.bench.protection.interval.ms} (default 2000, protection's default {@code interval.seconds}), and the
 * engine relies on a round's result at most {@code -Dferry.protection.max.age.ms} old (default 5000, the migration
 * component's default {@code protection.max.age.ms}; 0 checks the VM at every migration). Before each move (both
 * kinds) the guest runs {@code -Dferry.bench.settle.ms} (default 3000) on its host, as a VM does between migrations,
 * so that a round has seen it there. Prints how many secure moves relied on a round's result.
 */
public final class SecureMigrationBenchmark {

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 6;
        long protectionInterval = Long.getLong("ferry.bench.protection.interval.ms", 2000);
        long settle = Long.getLong("ferry.bench.settle.ms", 3000);
        if (System.getProperty("ferry.protection.max.age.ms") == null) {
            System.setProperty("ferry.protection.max.age.ms", "5000");
        }
        long maxAge = Long.getLong("ferry.protection.max.age.ms");
        String[] hosts = args.length > 2 ? new String[] { args[1], args[2] } : new String[] { "bencha", "benchb" };
        Testbed testbed = Testbed.load();
        LibvirtHypervisor[] hv = { TestbedHypervisors.connect(hosts[0], testbed.hostUri(hosts[0])),
                TestbedHypervisors.connect(hosts[1], testbed.hostUri(hosts[1])) };
        Path dir = Files.createTempDirectory("ferry-bench-secure");
        TestItCenter itCenter = new TestItCenter(dir);
        var policyKey = SecureAgent.policyKey();
        SecureAgent[] agents = { new SecureAgent(itCenter.enrol(hosts[0]), hv[0], policyKey, null, dir.resolve("a")),
                new SecureAgent(itCenter.enrol(hosts[1]), hv[1], policyKey, null, dir.resolve("b")) };
        boolean[] baselined = new boolean[2];
        String name = "bench-secure";
        Path vms = Files.createDirectories(testbed.work().resolve("vms"));
        Path disk = vms.resolve(name + ".qcow2");
        Files.copy(testbed.work().resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
        Path serial = vms.resolve(name + ".log");
        Files.deleteIfExists(serial);
        for (LibvirtHypervisor h : hv) {
            if (h.exists(name)) { // left over from an interrupted run
                if (h.domain(name).state().isActive()) {
                    h.stop(name, true);
                }
                h.undefine(name);
            }
        }
        hv[0].define(testbed.guestXml(name, disk, serial));
        hv[0].start(name);
        // both agents hold the VM's policy: the plain moves in between bypass the handover
        String policy = SecureAgent.signedPolicy(policyKey, name, hv[0].domain(name).uuid(), agents[0].id(),
                agents[1].id());
        agents[0].importPolicy(policy);
        agents[1].importPolicy(policy);
        SerialLog log = new SerialLog(serial);
        log.awaitCounter(3, 180_000);
        List<long[]> plain = new ArrayList<>();
        List<long[]> secure = new ArrayList<>();
        int here = 0;
        int young = 0;
        if (protectionInterval > 0) {
            for (SecureAgent agent : agents) {
                agent.startProtectionRounds(java.time.Duration.ofMillis(protectionInterval));
            }
        }
        System.out.printf("protection rounds every %d ms, results relied on up to %d ms old, %d ms on each host before a "
                + "move%n", protectionInterval, maxAge, settle);
        System.out.println("kind     move            total_ms downtime_ms prep_ms (attestation_ms, protection-wait_ms; integrity check_ms alongside, or 'round' when a round's result was relied on; plain: libvirt's own call inside vm:migrate's)");
        try {
            for (int i = 0; i < 2 * rounds; i++) {
                // order P S S P P S ...: load on this shared machine hits both alike
                boolean secured = (i % 4 == 1) || (i % 4 == 2);
                int there = 1 - here;
                long total;
                long downtime;
                long prep = -1;
                long attest = -1;
                long protect = -1;
                long check = -1;
                long libvirtCall = -1;
                if (secured && !baselined[here]) { // the protection baseline of the guest, once per host, untimed
                    agents[here].baseline(name);
                    baselined[here] = true;
                }
                Thread.sleep(settle);
                boolean usedRound = false;
                String phasesLine = null;
                if (secured) {
                    // when each phase began, from the progress the console shows
                    java.util.Map<io.ferry.api.migration.Phase, Long> began = new java.util.concurrent.ConcurrentHashMap<>();
                    java.util.concurrent.atomic.AtomicBoolean relied = new java.util.concurrent.atomic.AtomicBoolean();
                    agents[here].lastCheckNanos = -1;
                    MigrationOutcome o = agents[here].engine.migrateOut(
                            MigrationRequest.of(name, agents[there].address(), "alice"), p -> {
                                began.putIfAbsent(p.phase(), System.nanoTime());
                                if (p.note().contains(io.ferry.migration.internal.MigrationEngine.YOUNG_RESULT_NOTE)) {
                                    relied.set(true);
                                }
                            });
                    if (!o.succeeded()) {
                        throw new IllegalStateException("secure migration failed: " + o.reason());
                    }
                    total = o.totalMillis();
                    downtime = o.downtimeMillis();
                    prep = o.preparationMillis();
                    attest = millis(began, io.ferry.api.migration.Phase.ATTESTATION, io.ferry.api.migration.Phase.PROTECTION);
                    // the check runs alongside the channel and the attestation: its own duration, and how long
                    // the flow still waited for it in the PROTECTION phase
                    usedRound = relied.get();
                    young += usedRound ? 1 : 0;
                    long nanos = agents[here].lastCheckNanos;
                    check = usedRound ? -1 : nanos < 0 ? 0 : nanos / 1_000_000; // -1: a round's result relied on
                    protect = millis(began, io.ferry.api.migration.Phase.PROTECTION, io.ferry.api.migration.Phase.HANDOVER);
                    secure.add(new long[] { total, downtime, prep, attest, protect, check });
                    // where the move's time went: when each phase began, ms after the request
                    long start = began.values().stream().mapToLong(Long::longValue).min().orElse(0);
                    StringBuilder phases = new StringBuilder("         phases began at ms:");
                    for (io.ferry.api.migration.Phase ph : io.ferry.api.migration.Phase.values()) {
                        Long t = began.get(ph);
                        if (t != null) {
                            phases.append(' ').append(ph.name().toLowerCase()).append(' ').append((t - start) / 1_000_000);
                        }
                    }
                    phasesLine = phases.toString();
                } else {
                    // the whole call, as vm:migrate makes it: also its domain lookup, switch-over limit, completed
                    // statistics and the source's undefine around libvirt's migration (the secure total has them too)
                    long t0 = System.nanoTime();
                    MigrationResult r = hv[here].migrate(name, testbed.hostUri(hosts[there]), MigrationOptions.DEFAULT,
                            MigrationListener.NONE);
                    total = (System.nanoTime() - t0) / 1_000_000;
                    libvirtCall = r.wallMillis();
                    downtime = r.stats().downtimeMillis();
                    plain.add(new long[] { total, downtime });
                }
                System.out.printf("%-8s %-15s %8d %11d %7s %s%n", secured ? "secure" : "plain",
                        hosts[here] + "->" + hosts[there], total, downtime, prep < 0 ? "-" : String.valueOf(prep),
                        prep < 0 ? "(libvirt's own call " + libvirtCall + " ms)"
                                : "(" + attest + ", " + protect + "; " + (usedRound ? "round" : check) + ")");
                if (phasesLine != null) {
                    System.out.println(phasesLine);
                }
                here = there;
            }
        } finally {
            try {
                hv[here].stop(name, true);
                hv[here].undefine(name);
            } finally {
                for (int i = 0; i < 2; i++) {
                    agents[i].close();
                    hv[i].close();
                }
                itCenter.close();
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
        int boots = log.boots();
        long[] pt = stats(plain, 0), pd = stats(plain, 1), st = stats(secure, 0), sd = stats(secure, 1),
                sp = stats(secure, 2), sa = stats(secure, 3), spr = stats(secure, 4);
        List<long[]> checked = secure.stream().filter(row -> row[5] >= 0).toList();
        long[] sc = checked.isEmpty() ? new long[] { 0, 0, 0 } : stats(checked, 5);
        System.out.println();
        System.out.printf("%-8s total ms median %d (min %d, max %d), downtime ms median %d (min %d, max %d)%n", "plain",
                pt[0], pt[1], pt[2], pd[0], pd[1], pd[2]);
        System.out.printf("%-8s total ms median %d (min %d, max %d), downtime ms median %d (min %d, max %d), "
                + "preparation ms median %d (min %d, max %d)%n", "secure", st[0], st[1], st[2], sd[0], sd[1], sd[2],
                sp[0], sp[1], sp[2]);
        System.out.printf("%-8s of the preparation: attestation both ways ms median %d (min %d, max %d), then waiting for "
                + "the integrity check ms median %d (min %d, max %d); the check itself (run alongside the channel and "
                + "the attestation, in the %d move(s) that checked) ms median %d (min %d, max %d)%n", "secure", sa[0], sa[1], sa[2], spr[0], spr[1], spr[2],
                checked.size(), sc[0], sc[1], sc[2]);
        System.out.printf("secure   relied on a protection round's result in %d of %d moves (rounds every %d ms, up to %d ms "
                + "old); the others checked the guest alongside the attestation%n", young, rounds, protectionInterval, maxAge);
        System.out.println("guest: " + boots + " boot(s) over " + 2 * rounds + " migrations");
        if (boots != 1) {
            throw new IllegalStateException("the guest restarted");
        }
        System.out.printf(System.getProperty("ferry.bench.name", "migration") + ": %d migrations of a 256 MiB TCG guest; secure total median %d ms "
                + "(preparation %d ms: attestation %d ms, integrity check %s, %d ms waited for it), downtime median %d ms; plain total median %d ms, downtime median %d ms; "
                + "secure/plain total ratio %.2f (goal <= 1.10), downtime difference %+d ms (goal <= +20); "
                + "a protection round's result (<= %d ms old) relied on in %d of %d secure moves%n",
                2 * rounds, st[0], sp[0], sa[0],
                checked.isEmpty() ? "never run in the flow" : sc[0] + " ms alongside in " + checked.size() + " move(s)", spr[0], sd[0], pt[0], pd[0], (double) st[0] / pt[0], sd[0] - pd[0],
                maxAge, young, rounds);
    }

    private static long millis(java.util.Map<io.ferry.api.migration.Phase, Long> began, io.ferry.api.migration.Phase from,
            io.ferry.api.migration.Phase to) {
        Long a = began.get(from);
        Long b = began.get(to);
        return a == null || b == null ? -1 : (b - a) / 1_000_000;
    }

    private static long[] stats(List<long[]> runs, int column) {
        long[] v = runs.stream().mapToLong(r -> r[column]).sorted().toArray();
        long median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        return new long[] { median, v[0], v[v.length - 1] };
    }
}
