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
 */
public final class SecureMigrationBenchmark {

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 6;
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
        System.out.println("kind     move            total_ms downtime_ms prep_ms (attestation_ms, protection-wait_ms; integrity check_ms alongside)");
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
                if (secured && !baselined[here]) { // the protection baseline of the guest, once per host, untimed
                    agents[here].baseline(name);
                    baselined[here] = true;
                }
                if (secured) {
                    // when each phase began, from the progress the console shows
                    java.util.Map<io.ferry.api.migration.Phase, Long> began = new java.util.concurrent.ConcurrentHashMap<>();
                    MigrationOutcome o = agents[here].engine.migrateOut(
                            MigrationRequest.of(name, agents[there].address(), "alice"),
                            p -> began.putIfAbsent(p.phase(), System.nanoTime()));
                    if (!o.succeeded()) {
                        throw new IllegalStateException("secure migration failed: " + o.reason());
                    }
                    total = o.totalMillis();
                    downtime = o.downtimeMillis();
                    prep = o.preparationMillis();
                    attest = millis(began, io.ferry.api.migration.Phase.ATTESTATION, io.ferry.api.migration.Phase.PROTECTION);
                    // the check runs alongside the channel and the attestation: its own duration, and how long
                    // the flow still waited for it in the PROTECTION phase
                    check = agents[here].lastCheckNanos / 1_000_000;
                    protect = millis(began, io.ferry.api.migration.Phase.PROTECTION, io.ferry.api.migration.Phase.HANDOVER);
                    secure.add(new long[] { total, downtime, prep, attest, protect, check });
                } else {
                    MigrationResult r = hv[here].migrate(name, testbed.hostUri(hosts[there]), MigrationOptions.DEFAULT,
                            MigrationListener.NONE);
                    total = r.wallMillis();
                    downtime = r.stats().downtimeMillis();
                    plain.add(new long[] { total, downtime });
                }
                System.out.printf("%-8s %-15s %8d %11d %7s %s%n", secured ? "secure" : "plain",
                        hosts[here] + "->" + hosts[there], total, downtime, prep < 0 ? "-" : String.valueOf(prep),
                        prep < 0 ? "" : "(" + attest + ", " + protect + "; " + check + ")");
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
                sp = stats(secure, 2), sa = stats(secure, 3), spr = stats(secure, 4), sc = stats(secure, 5);
        System.out.println();
        System.out.printf("%-8s total ms median %d (min %d, max %d), downtime ms median %d (min %d, max %d)%n", "plain",
                pt[0], pt[1], pt[2], pd[0], pd[1], pd[2]);
        System.out.printf("%-8s total ms median %d (min %d, max %d), downtime ms median %d (min %d, max %d), "
                + "preparation ms median %d (min %d, max %d)%n", "secure", st[0], st[1], st[2], sd[0], sd[1], sd[2],
                sp[0], sp[1], sp[2]);
        System.out.printf("%-8s of the preparation: attestation both ways ms median %d (min %d, max %d), then waiting for "
                + "the integrity check ms median %d (min %d, max %d); the check itself (run alongside the channel and "
                + "the attestation) ms median %d (min %d, max %d)%n", "secure", sa[0], sa[1], sa[2], spr[0], spr[1], spr[2],
                sc[0], sc[1], sc[2]);
        System.out.println("guest: " + boots + " boot(s) over " + 2 * rounds + " migrations");
        if (boots != 1) {
            throw new IllegalStateException("the guest restarted");
        }
        System.out.printf(System.getProperty("ferry.bench.name", "migration") + ": %d migrations of a 256 MiB TCG guest; secure total median %d ms "
                + "(preparation %d ms: attestation %d ms, integrity check %d ms alongside, %d ms waited for it), downtime median %d ms; plain total median %d ms, downtime median %d ms; "
                + "secure/plain total ratio %.2f (goal <= 1.10), downtime difference %+d ms (goal <= +20)%n",
                2 * rounds, st[0], sp[0], sa[0], sc[0], spr[0], sd[0], pt[0], pd[0], (double) st[0] / pt[0], sd[0] - pd[0]);
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
