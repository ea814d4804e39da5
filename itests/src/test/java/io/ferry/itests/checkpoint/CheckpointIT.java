package io.ferry.itests.checkpoint;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.api.checkpoint.CheckpointException;
import io.ferry.api.checkpoint.CheckpointRecord;
import io.ferry.api.checkpoint.CheckpointSettings;
import io.ferry.api.checkpoint.Compression;
import io.ferry.api.checkpoint.RecoveryListener;
import io.ferry.api.checkpoint.RecoveryResult;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealStatus;
import io.ferry.api.seal.SealStorage;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.channel.testing.TestPki;
import io.ferry.checkpoint.internal.CheckpointConfig;
import io.ferry.checkpoint.internal.CheckpointService;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;
import io.ferry.itests.TestbedHypervisors;

/**
 * Checkpoints with real parts, outside Karaf: the test guest runs on testbed host A, its agent
 * ("laptop") checkpoints it over a mutual-TLS channel into the backup store of the agent
 * ("handheld") of host B. Then A's QEMU is killed with -9 and the laptop agent is gone; the
 * handheld takes the lease over once it expired and resumes the guest on B from the latest
 * complete checkpoint: its counter goes on from at least the checkpoint's value, without a reboot
 * and with its disk matching its memory. The lease then refuses the old primary.
 */
public class CheckpointIT {

    private final Testbed testbed = Testbed.load();
    private final String hostA = System.getProperty("ferry.itest.hosts", "ita itb").split(" ")[0];
    private final String hostB = System.getProperty("ferry.itest.hosts", "ita itb").split(" ")[1];
    private LibvirtHypervisor a;
    private LibvirtHypervisor b;
    private TlsAgentChannels laptop;
    private TlsAgentChannels handheld;
    private CheckpointService primary;
    private CheckpointService backup;
    private final TestWitness witness = new TestWitness();
    private String name;
    private Path dir;

    @org.junit.Rule
    public final org.junit.rules.TestName test = new org.junit.rules.TestName();

    /** The first test lets the backup detect the failure and recover by itself; the cut-link test recovers by hand. */
    private String failover() {
        return test.getMethodName().startsWith("theBackupResumes") ? "automatic" : "manual";
    }

    @Before
    public void setUp() throws Exception {
        a = TestbedHypervisors.connect(hostA, testbed.hostUri(hostA));
        b = TestbedHypervisors.connect(hostB, testbed.hostUri(hostB));
        TestPki pki = new TestPki("IT center");
        laptop = TestChannels.start(pki.agent("laptop"));
        handheld = TestChannels.start(pki.agent("handheld"));
        name = "ferry-cp-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        dir = Files.createDirectories(testbed.work().resolve("vms").resolve(name + "-agents"));
        primary = new CheckpointService(config(dir.resolve("laptop"), hostA, "manual"), laptop, new MapSeal(),
                host -> host.equals(hostA) ? a : null, () -> witness.as("laptop"));
        backup = new CheckpointService(config(dir.resolve("handheld"), hostB, failover()), handheld, new MapSeal(),
                host -> host.equals(hostB) ? b : null, () -> witness.as("handheld"));
        handheld.addHandler(backup, Map.of(ChannelHandler.PURPOSE, CheckpointService.PURPOSE));
    }

    @After
    public void tearDown() throws IOException {
        for (LibvirtHypervisor h : new LibvirtHypervisor[] {a, b}) {
            try {
                if (h.exists(name)) {
                    if (h.domain(name).state().isActive()) {
                        h.stop(name, true);
                    }
                    if (h.domain(name).persistent()) {
                        h.undefine(name);
                    }
                }
            } catch (RuntimeException e) {
                System.err.println("cleanup on " + h.hostName() + ": " + e.getMessage());
            }
            h.close();
        }
        primary.close();
        backup.close();
        laptop.close();
        handheld.close();
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
        try (var files = Files.list(testbed.work().resolve("vms"))) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith(name)).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    @Test
    public void theBackupResumesTheGuestFromTheLatestCompleteCheckpointAndTheOldPrimaryIsFenced()
            throws Exception {
        Path vms = testbed.work().resolve("vms");
        Path disk = vms.resolve(name + ".qcow2");
        Path serial = vms.resolve(name + ".log");
        Files.copy(testbed.work().resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
        a.define(testbed.guestXml(name, disk, serial));
        a.start(name);
        SerialLog log = new SerialLog(serial);
        log.awaitCounter(3, 120_000);

        AgentAddress backupAddress = new AgentAddress("handheld", "127.0.0.1", handheld.port());
        primary.enable(new CheckpointSettings(name, hostA, backupAddress, Duration.ofHours(1), Compression.ZSTD, true));
        List<CheckpointRecord> records = new ArrayList<>();
        long counterBeforeLast = 0;
        for (int i = 0; i < 3; i++) {
            log.awaitCounter(log.lastCounter() + 2, 30_000);
            counterBeforeLast = log.lastCounter();
            records.add(primary.checkpointNow(name));
        }
        for (CheckpointRecord r : records) {
            System.out.printf("checkpoint %d: raw %d KiB, sent %d KiB (%.2f), %d ms, pause %d ms, incremental %s%n",
                    r.sequence(), r.rawBytes() >> 10, r.sentBytes() >> 10, r.ratio(), r.durationMillis(),
                    r.pauseMillis(), r.incremental());
        }
        CheckpointRecord last = records.get(records.size() - 1);
        assertTrue("later checkpoints ship disk deltas", last.incremental());
        assertEquals(last.sequence(), backup.stored().get(0).sequence());
        assertTrue("compressed: " + last.ratio(), last.ratio() < 0.8);
        assertEquals("the primary's disk chain is back to base + one overlay", 1,
                Files.list(vms).filter(f -> f.getFileName().toString().startsWith(name + "-vda-")).count());

        long stored = backup.stored().get(0).sequence();

        // the laptop is lost at a random moment of a fifth checkpoint: its guest's QEMU killed with -9, its agent
        // gone. Whether that checkpoint completed or not, the backup has a complete one to recover from.
        long delay = new java.util.Random().nextInt(1500);
        Thread fifth = new Thread(() -> {
            try {
                primary.checkpointNow(name);
            } catch (RuntimeException e) {
                System.out.println("the checkpoint cut by the kill: " + e.getMessage());
            }
        });
        log.awaitCounter(log.lastCounter() + 2, 30_000);
        fifth.start();
        Thread.sleep(delay);
        long beforeKill = log.lastCounter();
        kill9(name);
        fifth.join(30_000);
        primary.close();
        System.out.println("killed " + delay + " ms into checkpoint " + (last.sequence() + 1));
        Thread.sleep(500);
        int printedBeforeRecovery = log.counters().size();
        assertFalse(a.exists(name) && a.domain(name).state() == DomainState.RUNNING);

        // the handheld notices the silence (no heartbeat for 3 s) and recovers by itself, once the lease expired
        long deadline = System.currentTimeMillis() + 40_000;
        while (backup.lastRecovery(name) == null) {
            assertTrue("no automatic recovery", System.currentTimeMillis() < deadline);
            Thread.sleep(200);
        }
        assertEquals(DomainState.RUNNING, b.domain(name).state());
        io.ferry.api.checkpoint.CheckpointStatus recoveredStatus = backup.status().stream()
                .filter(st -> st.vm().equals(name)).findFirst().orElseThrow();
        assertEquals(io.ferry.api.checkpoint.CheckpointStatus.Role.RECOVERED, recoveredStatus.role());
        RecoveryResult result = backup.lastRecovery(name);
        System.out.printf("recovered %s on %s from checkpoint %d in %d ms, work lost at most %d ms, epoch %d%n",
                name, result.host(), result.sequence(), result.recoveryMillis(), result.workLost().toMillis(),
                result.epoch());
        assertTrue("the latest complete checkpoint: " + result.sequence(),
                result.sequence() == stored || result.sequence() == stored + 1);
        assertEquals(2, result.epoch());
        assertEquals(DomainState.RUNNING, b.domain(name).state());

        log.awaitCounter(0, 1000);
        long waitUntil = System.currentTimeMillis() + 60_000;
        while (log.counters().size() < printedBeforeRecovery + 3 && System.currentTimeMillis() < waitUntil) {
            Thread.sleep(200);
        }
        List<Long> counters = log.counters();
        assertTrue("the recovered guest counts on:\n" + log.tail(), counters.size() >= printedBeforeRecovery + 3);
        long resumed = counters.get(printedBeforeRecovery);
        System.out.printf("counter before the last checkpoint %d, at the kill %d, first after recovery %d%n",
                counterBeforeLast, beforeKill, resumed);
        assertTrue("resumes at or after the checkpoint: " + resumed, resumed > counterBeforeLast);
        assertTrue("not beyond what the primary had done: " + resumed, resumed <= beforeKill + 1);
        assertEquals("no reboot", 1, log.boots());
        assertEquals("disk consistent with memory", 0, log.diskErrors());

        // the old primary comes back: the lease refuses it
        CheckpointService returning = new CheckpointService(config(dir.resolve("laptop2"), hostA, "manual"), laptop,
                new MapSeal(), host -> host.equals(hostA) ? a : null, () -> witness.as("laptop"));
        try {
            assertFalse(returning.mayRun(name, 1));
            try {
                witness.as("laptop").call("POST", "leases/" + name + "/renew", "{\"epoch\":1,\"ttlSeconds\":4}",
                        Duration.ofSeconds(1));
                fail("renewing the old epoch must be refused");
            } catch (io.ferry.api.itcenter.ItCenterException e) {
                assertEquals(io.ferry.api.itcenter.ItCenterException.Reason.CONFLICT, e.reason());
            }
        } finally {
            returning.close();
        }
        assertEquals(2, witness.epoch(name));
    }

    /**
     * A cut link with both sides alive: while the laptop renews the lease the handheld's recovery is
     * refused; once the laptop is cut off from the IT center too, it pauses its copy before its lease
     * expires, the handheld takes the lease over and resumes the guest, and when the laptop reaches the
     * IT center again its renewal is refused and it stops its copy. At no moment do both copies run.
     */
    @Test
    public void aCutLinkNeverLeavesTwoRunningCopies() throws Exception {
        Path vms = testbed.work().resolve("vms");
        Path disk = vms.resolve(name + ".qcow2");
        Path serial = vms.resolve(name + ".log");
        Files.copy(testbed.work().resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
        a.define(testbed.guestXml(name, disk, serial));
        a.start(name);
        SerialLog log = new SerialLog(serial);
        log.awaitCounter(3, 120_000);
        AgentAddress backupAddress = new AgentAddress("handheld", "127.0.0.1", handheld.port());
        primary.enable(new CheckpointSettings(name, hostA, backupAddress, Duration.ofHours(1), Compression.LZ4, true));
        primary.checkpointNow(name);

        // the link between the agents is cut, both reach the IT center: the lease stays with the laptop
        handheld.removeHandler(backup, Map.of(ChannelHandler.PURPOSE, CheckpointService.PURPOSE));
        Thread.sleep(6000); // longer than the lease time: the laptop keeps renewing it
        try {
            backup.recover(name, hostB, RecoveryListener.NONE);
            fail("the handheld must not recover while the laptop holds the lease");
        } catch (CheckpointException e) {
            assertEquals(CheckpointException.Reason.FENCED, e.reason());
        }
        assertEquals(DomainState.RUNNING, a.domain(name).state());
        assertFalse(b.exists(name));

        // the laptop is cut off from the IT center as well: it pauses, then the handheld takes over
        witness.unreachable.add("laptop");
        RecoveryResult result = null;
        long deadline = System.currentTimeMillis() + 30_000;
        while (result == null) {
            assertFalse("two running copies", running(a) && running(b));
            try {
                result = backup.recover(name, hostB, RecoveryListener.NONE);
            } catch (CheckpointException e) {
                assertEquals(CheckpointException.Reason.FENCED, e.reason());
                assertTrue("no recovery", System.currentTimeMillis() < deadline);
                Thread.sleep(200);
            }
        }
        assertEquals(DomainState.PAUSED, a.domain(name).state());
        assertEquals(DomainState.RUNNING, b.domain(name).state());
        assertEquals(2, result.epoch());

        // the laptop reaches the IT center again: refused, it stops its paused copy for good
        witness.unreachable.remove("laptop");
        long until = System.currentTimeMillis() + 15_000;
        while (a.exists(name) && a.domain(name).state().isActive() && System.currentTimeMillis() < until) {
            assertFalse("two running copies", running(a) && running(b));
            Thread.sleep(200);
        }
        assertFalse("the old primary stopped its copy", a.exists(name) && a.domain(name).state().isActive());
        assertEquals(DomainState.RUNNING, b.domain(name).state());
        int printed = log.counters().size();
        long wait = System.currentTimeMillis() + 30_000;
        while (log.counters().size() < printed + 3 && System.currentTimeMillis() < wait) {
            Thread.sleep(200);
        }
        assertTrue("the guest counts on on B:\n" + log.tail(), log.counters().size() >= printed + 3);
        assertEquals("no reboot", 1, log.boots());
        assertEquals("disk consistent with memory", 0, log.diskErrors());
    }

    private boolean running(LibvirtHypervisor h) {
        try {
            return h.exists(name) && h.domain(name).state() == DomainState.RUNNING;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** kill -9 of the guest's QEMU, by the pid libvirt wrote for it on host A. */
    private void kill9(String domain) throws Exception {
        Path pidFile = testbed.work().resolve("hosts").resolve(hostA).resolve("run/qemu/" + domain + ".pid");
        String pid = Files.readString(pidFile, StandardCharsets.US_ASCII).strip();
        Process p = new ProcessBuilder("kill", "-9", pid).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals("kill -9 " + pid + ": " + out, 0, p.waitFor());
    }

    private static CheckpointConfig config(Path root, String host, String failover) {
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
                return 500;
            }

            @Override
            public long failure_timeout_ms() {
                return 3000;
            }

            @Override
            public int lease_ttl_s() {
                return 4;
            }

            @Override
            public String failover() {
                return failover;
            }

            @Override
            public String itcenter_unreachable() {
                return "safety";
            }

            @Override
            public long max_checkpoint_bytes() {
                return 1L << 32;
            }
        };
    }

    /** Seal storage as a map: the key handling, not the TPM, is under test here. */
    private static final class MapSeal implements SealStorage {
        private final Map<String, byte[]> secrets = new HashMap<>();

        @Override
        public synchronized SealStatus status() {
            throw new UnsupportedOperationException();
        }

        @Override
        public synchronized List<String> list() {
            return new ArrayList<>(secrets.keySet());
        }

        @Override
        public synchronized void put(String n, byte[] secret) {
            secrets.put(n, secret.clone());
        }

        @Override
        public synchronized byte[] get(String n) {
            byte[] s = secrets.get(n);
            if (s == null) {
                throw new io.ferry.api.seal.SealException("get", n, io.ferry.api.seal.SealException.Reason.NO_SUCH_SECRET, "no secret " + n);
            }
            return s.clone();
        }

        @Override
        public synchronized boolean delete(String n) {
            return secrets.remove(n) != null;
        }

        @Override
        public ApprovalRequest approvalRequest() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void approve(Approval approval) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void rotate(Approval approvalOrNull) {
            throw new UnsupportedOperationException();
        }
    }
}
