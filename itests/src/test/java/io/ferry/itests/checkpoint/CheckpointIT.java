package io.ferry.itests.checkpoint;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.After;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.checkpoint.CheckpointException;
import io.ferry.api.checkpoint.CheckpointRecord;
import io.ferry.api.checkpoint.CheckpointSettings;
import io.ferry.api.checkpoint.CheckpointStatus;
import io.ferry.api.checkpoint.Compression;
import io.ferry.api.checkpoint.RecoveryListener;
import io.ferry.api.checkpoint.RecoveryResult;
import io.ferry.api.checkpoint.StoredCheckpoint;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.checkpoint.internal.CheckpointService;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;
import io.ferry.itests.TestbedHypervisors;

/**
 * Checkpoints with real parts, outside Karaf: the test guest runs on testbed host A, its agent
 * ("laptop") checkpoints it over a mutual-TLS channel into the backup store of the agent
 * ("handheld") of host B. The witness is a real IT center: a Ferry distribution started from the
 * build's tarball, reached by each agent through the real ItCenterLinkService (mutual TLS, the
 * certificates that IT center issued, which are also the agents' channel certificates). Cables
 * (TCP forwarders) stand between the agents and between the laptop and the IT center, to be
 * unplugged.
 *
 * <p>The fault campaign runs each scenario a few times by default and many times with
 * {@code -Dferry.campaign=full}; every run is a fresh guest at a random moment.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING) // the IT center's restart last
public class CheckpointIT {

    private static final boolean FULL = "full".equals(System.getProperty("ferry.campaign"));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ItCenterDistribution itc;
    private static ItCenterDistribution.Agent laptopId;
    private static ItCenterDistribution.Agent handheldId;
    private static ItCenterDistribution.Agent intruderId;

    private final Testbed testbed = Testbed.load();
    private final String hostA = System.getProperty("ferry.itest.hosts", "ita itb").split(" ")[0];
    private final String hostB = System.getProperty("ferry.itest.hosts", "ita itb").split(" ")[1];
    private static final long SEED = Long.getLong("ferry.campaign.seed", System.nanoTime());
    private final Random random = new Random(SEED);
    private LibvirtHypervisor a;
    private LibvirtHypervisor b;
    private CheckpointAgent laptop;
    private CheckpointAgent handheld;
    private Cable agentCable;
    private Cable laptopToItCenter;
    private final List<String> names = new ArrayList<>();
    private Path dir;

    /**
     * An agent of this JVM asking for a 6 s lease: with heartbeats every 0.5 s, it pauses its VM 3.75 s after its last
     * renewal, its fencing watchdog destroys it at 5 s, the lease expires at 6 s.
     */
    private static CheckpointAgent agent(ItCenterDistribution.Agent identity, LibvirtHypervisor host, Path home,
            String failover, String itCenterUrl) throws Exception {
        return CheckpointAgent.enrolled(identity, host, home, itCenterUrl,
                Map.of("failover", failover, "lease_ttl_s", 6));
    }

    @BeforeClass
    public static void startItCenter() throws Exception {
        System.out.println("checkpoint campaign seed " + SEED + (FULL ? " (full)" : ""));
        itc = ItCenterDistribution.start(Testbed.load().work());
        laptopId = itc.register("cp-laptop");
        handheldId = itc.register("cp-handheld");
        intruderId = itc.register("cp-intruder");
    }

    @AfterClass
    public static void stopItCenter() throws Exception {
        if (itc != null) {
            itc.close();
        }
    }

    @Before
    public void setUp() throws Exception {
        a = TestbedHypervisors.connect(hostA, testbed.hostUri(hostA));
        b = TestbedHypervisors.connect(hostB, testbed.hostUri(hostB));
        dir = Files.createDirectories(testbed.work().resolve("vms").resolve("cp-agents-" + System.nanoTime()));
        laptopToItCenter = new Cable(ItCenterDistribution.HTTPS_PORT);
        laptop = agent(laptopId, a, dir.resolve("laptop"), "manual",
                "https://127.0.0.1:" + laptopToItCenter.port() + "/");
        handheld = agent(handheldId, b, dir.resolve("handheld"), "automatic", "");
        agentCable = new Cable(handheld.channels.port());
    }

    @After
    public void tearDown() throws IOException {
        CheckpointFixtures.removeGuests(names, a, b);
        for (CheckpointAgent x : new CheckpointAgent[] {laptop, handheld}) {
            if (x != null) {
                x.kill();
            }
        }
        agentCable.close();
        laptopToItCenter.close();
        CheckpointFixtures.deleteTree(dir);
        CheckpointFixtures.deleteGuestFiles(testbed, names);
    }

    private static int runs(int small, int full) {
        return Integer.getInteger("ferry.campaign.runs", FULL ? full : small);
    }

    /** A fresh test guest on A, counting; returns its serial log. */
    private SerialLog startGuest(String name) throws Exception {
        names.add(name);
        return CheckpointFixtures.startGuest(testbed, a, name);
    }

    private String newName() {
        return "ferry-cp-" + Long.toString(System.nanoTime() % 100_000_000L, 36);
    }

    private AgentAddress backupAddress() {
        return new AgentAddress(handheldId.id(), "127.0.0.1", agentCable.port());
    }

    /** The lease as the IT center has it, asked over the handheld's link. */
    private JsonNode lease(String vm) throws Exception {
        return JSON.readTree(handheld.link.call("GET", "leases/" + vm, null, Duration.ofSeconds(10)));
    }

    private boolean running(LibvirtHypervisor h, String name) {
        try {
            return h.exists(name) && h.domain(name).state() == DomainState.RUNNING;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Fault campaign, QEMU: the laptop is lost at a random moment of a checkpoint (its guest's QEMU
     * killed with -9, its agent gone). Each time the handheld notices the silence, takes the lease
     * over at the real IT center once it expired, and resumes the guest on B from the latest complete
     * checkpoint: the one the laptop saw confirmed, else the one before; the guest counts on from
     * there without a reboot and with its disk matching its memory. The recovered VM is defined on
     * B (persistent) and stays so across a restart of the handheld agent; the old primary is refused.
     */
    @Test
    public void killingThePrimarysQemuAtRandomMomentsAlwaysRecoversTheLatestCompleteCheckpoint() throws Exception {
        int runs = runs(2, 20);
        for (int run = 1; run <= runs; run++) {
            if (run > 1) {
                tearDown();
                setUp();
            }
            String name = newName();
            SerialLog log = startGuest(name);
            laptop.service.enable(new CheckpointSettings(name, hostA, backupAddress(), Duration.ofHours(1),
                    Compression.ZSTD, true));
            List<CheckpointRecord> records = new ArrayList<>();
            long counterBeforeLast = 0;
            for (int i = 0; i < 3; i++) {
                log.awaitCounter(log.lastCounter() + 1, 30_000);
                counterBeforeLast = log.lastCounter();
                records.add(laptop.service.checkpointNow(name));
            }
            for (CheckpointRecord r : records) {
                System.out.printf("checkpoint %d: raw %d KiB, sent %d KiB (%.3f), %d ms, pause %d ms, incremental %s%n",
                        r.sequence(), r.rawBytes() >> 10, r.sentBytes() >> 10, r.ratio(), r.durationMillis(),
                        r.pauseMillis(), r.incremental());
            }
            CheckpointRecord last = records.get(records.size() - 1);
            assertTrue("later checkpoints are incremental", last.incremental());
            assertTrue("an incremental checkpoint is small: " + last.ratio(), last.ratio() < 0.35);
            long stored = handheld.service.stored().get(0).sequence();
            assertEquals(last.sequence(), stored);

            // a fourth checkpoint, cut at a random moment by the loss of the laptop
            long delay = random.nextInt(2000);
            AtomicReference<CheckpointRecord> fourth = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    fourth.set(laptop.service.checkpointNow(name));
                } catch (RuntimeException e) {
                    System.out.println("the checkpoint cut by the kill: " + e.getMessage());
                }
            });
            log.awaitCounter(log.lastCounter() + 1, 30_000);
            t.start();
            Thread.sleep(delay);
            long beforeKill = log.lastCounter();
            kill9(name);
            t.join(30_000);
            laptop.kill();
            int printedBeforeRecovery = log.counters().size();
            assertFalse(running(a, name));

            long deadline = System.currentTimeMillis() + 60_000;
            while (handheld.service.lastRecovery(name) == null) {
                assertTrue("no automatic recovery", System.currentTimeMillis() < deadline);
                Thread.sleep(200);
            }
            RecoveryResult result = handheld.service.lastRecovery(name);
            System.out.printf("run %d/%d: killed %d ms into checkpoint %d (%s); recovered checkpoint %d in %d ms, "
                    + "work lost at most %d ms, epoch %d%n", run, runs, delay, stored + 1,
                    fourth.get() != null ? "confirmed" : "not confirmed", result.sequence(), result.recoveryMillis(),
                    result.workLost().toMillis(), result.epoch());
            if (fourth.get() != null) {
                assertEquals("the confirmed checkpoint", stored + 1, result.sequence());
            } else {
                assertTrue("the latest complete: " + result.sequence(),
                        result.sequence() == stored || result.sequence() == stored + 1);
            }
            assertEquals(2, result.epoch());
            assertEquals(DomainState.RUNNING, b.domain(name).state());
            assertTrue("the recovered VM is defined on B", b.domain(name).persistent());
            JsonNode l = lease(name);
            assertEquals(handheldId.id(), l.path("holder").asText());
            assertEquals(2, l.path("epoch").asLong());

            long waitUntil = System.currentTimeMillis() + 60_000;
            while (log.counters().size() < printedBeforeRecovery + 3 && System.currentTimeMillis() < waitUntil) {
                Thread.sleep(200);
            }
            List<Long> counters = log.counters();
            assertTrue("the recovered guest counts on:\n" + log.tail(), counters.size() >= printedBeforeRecovery + 3);
            long resumed = counters.get(printedBeforeRecovery);
            System.out.printf("counter before the last confirmed checkpoint %d, at the kill %d, first after recovery %d%n",
                    counterBeforeLast, beforeKill, resumed);
            assertTrue("resumes at or after the checkpoint: " + resumed, resumed > counterBeforeLast);
            assertTrue("not beyond what the primary had done: " + resumed, resumed <= beforeKill + 1);
            assertEquals("no reboot", 1, log.boots());
            assertEquals("disk consistent with memory", 0, log.diskErrors());

            // the handheld agent restarts: the recovered VM runs on, defined, and its checkpoints stay refused
            handheld.kill();
            handheld.start();
            Thread.sleep(1500);
            assertEquals(DomainState.RUNNING, b.domain(name).state());
            assertTrue(b.domain(name).persistent());
            assertTrue(handheld.service.status().isEmpty() || handheld.service.status().stream()
                    .noneMatch(st -> st.vm().equals(name) && st.role() == CheckpointStatus.Role.BACKUP));
            assertTrue("nothing to recover twice", handheld.service.stored().stream().noneMatch(st -> st.vm().equals(name)));

            // the old primary comes back: the lease refuses its epoch
            laptop.start();
            assertFalse(laptop.service.mayRun(name, 1));
            try {
                laptop.link.call("POST", "leases/" + name + "/renew", "{\"epoch\":1,\"ttlSeconds\":4}",
                        Duration.ofSeconds(5));
                fail("renewing the old epoch must be refused");
            } catch (ItCenterException e) {
                assertEquals(ItCenterException.Reason.CONFLICT, e.reason());
            }
        }
    }

    /**
     * Fault campaign, agent: the laptop's agent dies (its threads stop, its connections break) at a
     * random moment of a checkpoint while its guest runs on. The handheld keeps the latest complete
     * checkpoint and nothing of the cut one. The agent restarts within the failure timeout, finds its
     * record and its lease, and resumes protection with a whole checkpoint; the handheld does not
     * recover meanwhile (one running copy). Then the laptop is lost for good and the handheld
     * recovers the latest complete checkpoint, consistent.
     */
    @Test
    public void killingThePrimarysAgentAtRandomMomentsNeverLeavesAPartialCheckpoint() throws Exception {
        int runs = runs(1, 15);
        for (int run = 1; run <= runs; run++) {
            if (run > 1) {
                tearDown();
                setUp();
            }
            // the agent comes back before its fencing watchdog acts (17.5 s after its last renewal with the 20 s lease
            // here, 26.25 s with the default 30 s): with a 4 s lease, a restart slowed by a loaded machine let the
            // backup take the lease over while the dead agent's QEMU still ran (before there was fencing)
            laptop.kill();
            laptop.config.put("lease_ttl_s", 20);
            laptop.start();
            String name = newName();
            SerialLog log = startGuest(name);
            laptop.service.enable(new CheckpointSettings(name, hostA, backupAddress(), Duration.ofHours(1),
                    Compression.ZSTD, true));
            laptop.service.checkpointNow(name);
            log.awaitCounter(log.lastCounter() + 1, 30_000);
            laptop.service.checkpointNow(name);
            long stored = handheld.service.stored().get(0).sequence();

            long delay = random.nextInt(1500);
            AtomicReference<CheckpointRecord> cut = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    cut.set(laptop.service.checkpointNow(name));
                } catch (RuntimeException e) {
                    System.out.println("the checkpoint cut by the agent's death: " + e.getMessage());
                }
            });
            t.start();
            Thread.sleep(delay);
            laptop.kill();
            t.join(30_000);
            Thread.sleep(300);
            long now = handheld.service.stored().get(0).sequence();
            System.out.printf("run %d/%d: agent killed %d ms into checkpoint %d (%s); the handheld has %d%n", run, runs,
                    delay, stored + 1, cut.get() != null ? "confirmed" : "not confirmed", now);
            assertTrue("the latest complete: " + now, now == stored || now == stored + 1);
            if (cut.get() != null) {
                assertEquals(stored + 1, now);
            }
            Path incoming = handheld.home.resolve("store").resolve(name).resolve("incoming");
            long partial = 0;
            long until = System.currentTimeMillis() + 10_000;
            do {
                try (var files = Files.list(incoming)) {
                    partial = files.count();
                }
                if (partial > 0) {
                    Thread.sleep(200);
                }
            } while (partial > 0 && System.currentTimeMillis() < until);
            assertEquals("nothing of the cut checkpoint is kept", 0, partial);
            assertEquals("the guest runs on", DomainState.RUNNING, a.domain(name).state());

            // the agent restarts (on the same folders) and resumes protection with a whole checkpoint
            laptop.start();
            until = System.currentTimeMillis() + 30_000;
            while (handheld.service.stored().get(0).sequence() <= now) {
                assertTrue("protection did not resume", System.currentTimeMillis() < until);
                assertFalse("two running copies", running(a, name) && running(b, name));
                Thread.sleep(200);
            }
            assertNull("no recovery while the primary came back in time", handheld.service.lastRecovery(name));
            long resumedAt = handheld.service.stored().get(0).sequence();
            System.out.printf("protection resumed after the restart: checkpoint %d%n", resumedAt);

            // now the laptop is lost for good
            log.awaitCounter(log.lastCounter() + 1, 30_000);
            long beforeKill = log.lastCounter();
            kill9(name);
            laptop.kill();
            int printed = log.counters().size();
            long deadline = System.currentTimeMillis() + 60_000;
            while (handheld.service.lastRecovery(name) == null) {
                assertTrue("no automatic recovery", System.currentTimeMillis() < deadline);
                Thread.sleep(200);
            }
            RecoveryResult r = handheld.service.lastRecovery(name);
            assertEquals(resumedAt, r.sequence());
            long wait = System.currentTimeMillis() + 60_000;
            while (log.counters().size() < printed + 3 && System.currentTimeMillis() < wait) {
                Thread.sleep(200);
            }
            assertTrue("the guest counts on on B:\n" + log.tail(), log.counters().size() >= printed + 3);
            assertTrue(log.counters().get(printed) <= beforeKill + 1);
            assertEquals("no reboot", 1, log.boots());
            assertEquals("disk consistent with memory", 0, log.diskErrors());
        }
    }

    /**
     * A cut link with both sides alive: while the laptop renews the lease at the IT center the
     * handheld's recovery is refused; once the laptop is cut off from the IT center too, it pauses
     * its copy before its lease expires, the handheld takes the lease over and resumes the guest, and
     * when the laptop reaches the IT center again its renewal is refused and it stops its copy. At no
     * moment do both copies run.
     */
    @Test
    public void aCutLinkNeverLeavesTwoRunningCopies() throws Exception {
        String name = newName();
        SerialLog log = startGuest(name);
        handheld.kill(); // this scenario recovers by hand
        handheld = agent(handheldId, b, dir.resolve("handheld-manual"), "manual", "");
        agentCable.close();
        agentCable = new Cable(handheld.channels.port());
        laptop.service.enable(new CheckpointSettings(name, hostA, backupAddress(), Duration.ofHours(1),
                Compression.LZ4, true));
        laptop.service.checkpointNow(name);

        // the cable between the agents is pulled, both reach the IT center: the lease stays with the laptop
        agentCable.unplug();
        Thread.sleep(7000); // longer than the lease time: the laptop keeps renewing it
        try {
            handheld.service.recover(name, hostB, RecoveryListener.NONE);
            fail("the handheld must not recover while the laptop holds the lease");
        } catch (CheckpointException e) {
            assertEquals(CheckpointException.Reason.FENCED, e.reason());
        }
        assertEquals(DomainState.RUNNING, a.domain(name).state());
        assertFalse(b.exists(name));

        // the laptop is cut off from the IT center as well: it pauses, then the handheld takes over
        laptopToItCenter.unplug();
        RecoveryResult result = null;
        long deadline = System.currentTimeMillis() + 30_000;
        while (result == null) {
            assertFalse("two running copies", running(a, name) && running(b, name));
            try {
                result = handheld.service.recover(name, hostB, RecoveryListener.NONE);
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
        laptopToItCenter.plug();
        long until = System.currentTimeMillis() + 20_000;
        while (a.exists(name) && a.domain(name).state().isActive() && System.currentTimeMillis() < until) {
            assertFalse("two running copies", running(a, name) && running(b, name));
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
        JsonNode l = lease(name);
        assertEquals(handheldId.id(), l.path("holder").asText());
        assertEquals(2, l.path("epoch").asLong());
    }

    private CheckpointSettings protection(String name) {
        return new CheckpointSettings(name, hostA, backupAddress(), Duration.ofHours(1), Compression.ZSTD, true);
    }

    /** The handheld's status of a VM: null when it does not watch it (never did, or forgot it). */
    private CheckpointStatus backupStatus(String vm) {
        return handheld.service.status().stream().filter(st -> st.vm().equals(vm)).findFirst().orElse(null);
    }

    private boolean backupStores(String vm) {
        return handheld.service.stored().stream().anyMatch(st -> st.vm().equals(vm));
    }

    /**
     * A DISABLE for {@code vm} sent to the handheld by another enrolled agent (its certificate issued by the same
     * IT center) over a real mutual-TLS channel; returns the handheld's answer.
     */
    private String intruderDisable(String vm, long epoch) throws Exception {
        TlsAgentChannels intruder = TestChannels.start(intruderId.credentials());
        try (io.ferry.api.channel.Channel c = intruder.open(new AgentAddress(handheldId.id(), "127.0.0.1",
                handheld.channels.port()), CheckpointService.PURPOSE, Duration.ofSeconds(10))) {
            java.io.DataOutputStream out = new java.io.DataOutputStream(c.output());
            out.writeUTF("DISABLE");
            out.writeUTF(vm);
            out.writeLong(epoch);
            out.flush();
            return new java.io.DataInputStream(c.input()).readUTF();
        } finally {
            intruder.close();
        }
    }

    /** Whether a process exists and is not a zombie (a killed QEMU stays one until its reaper collects it). */
    private static boolean runs(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
            return state != 'Z' && state != 'X';
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** For {@code millis}: the guest runs on A, nothing of it on B, no recovery. */
    private void onlyOnA(String name, long millis) throws Exception {
        long until = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < until) {
            assertTrue("the guest runs on A", running(a, name));
            assertFalse("nothing of it on B", b.exists(name));
            Thread.sleep(200);
        }
        assertNull("no recovery", handheld.service.lastRecovery(name));
    }

    /**
     * checkpoint:disable with the backup reachable: another enrolled agent's DISABLE is refused first and
     * changes nothing; the laptop's releases the lease at the IT center and the handheld forgets the VM (no
     * watching, no checkpoint, no pairing); past the failure timeout, the lease time and the fence time the
     * guest runs on A alone.
     */
    @Test
    public void disablingWithTheBackupReachableMakesItForgetTheVmAndAnotherAgentsDisableIsRefused()
            throws Exception {
        String name = newName();
        SerialLog log = startGuest(name);
        laptop.service.enable(protection(name));
        laptop.service.checkpointNow(name);
        Path pairing = handheld.home.resolve("work").resolve("pairings").resolve(name + ".properties");
        assertEquals(CheckpointStatus.Role.BACKUP, backupStatus(name).role());
        assertTrue(Files.exists(pairing));

        // another enrolled agent (valid certificate, same IT center): refused, whatever epoch it claims
        for (long epoch : new long[] {1, 2}) {
            String answer = intruderDisable(name, epoch);
            assertTrue(answer, answer.startsWith("REFUSED") && answer.contains("paired with " + laptopId.id()));
        }
        Thread.sleep(1500);
        assertEquals("still watched", CheckpointStatus.Role.BACKUP, backupStatus(name).role());
        assertTrue("heartbeats still counted", backupStatus(name).lastHeartbeat().isAfter(
                java.time.Instant.now().minusSeconds(2)));
        assertTrue(backupStores(name));
        assertTrue(Files.exists(pairing));

        assertTrue(laptop.service.disable(name));
        JsonNode l = lease(name);
        assertTrue("lease released: " + l, l.path("holder").isNull());
        assertEquals(1, l.path("epoch").asLong());
        assertNull("the handheld no longer watches it", backupStatus(name));
        assertFalse("its checkpoints are gone", backupStores(name));
        assertFalse("its pairing is gone", Files.exists(pairing));
        assertFalse("the laptop's fence stood down",
                Files.exists(laptop.home.resolve("work").resolve("fence").resolve(name + ".deadline")));
        assertTrue(laptop.service.status().stream().noneMatch(st -> st.vm().equals(name)));

        onlyOnA(name, 12_000); // > failure timeout 3 s + lease 6 s + a recovery attempt every 5 s
        log.awaitCounter(log.lastCounter() + 1, 30_000);
        assertEquals("no reboot", 1, log.boots());
        assertEquals("disk consistent with memory", 0, log.diskErrors());
    }

    /**
     * checkpoint:disable while the backup is cut off: the DISABLE cannot be delivered, the lease is released
     * at the IT center. The handheld notices the silence, finds the lease released instead of expired, and
     * forgets the VM rather than recover it; the IT center would refuse the takeover anyway. No second copy,
     * also once the cable is back.
     */
    @Test
    public void disablingWithTheBackupCutOffStillNeverStartsASecondCopy() throws Exception {
        String name = newName();
        SerialLog log = startGuest(name);
        laptop.service.enable(protection(name));
        laptop.service.checkpointNow(name);
        agentCable.unplug();
        assertTrue(laptop.service.disable(name));
        JsonNode l = lease(name);
        assertTrue("lease released: " + l, l.path("holder").isNull());
        assertTrue("the handheld missed it", backupStores(name));

        // the IT center refuses a takeover of the released lease (asked directly, as an older backup would)
        try {
            handheld.link.call("POST", "leases/" + name + "/transfer", "{\"epoch\":1,\"ttlSeconds\":6}",
                    Duration.ofSeconds(5));
            fail("a released lease must not be taken over");
        } catch (ItCenterException e) {
            assertEquals(ItCenterException.Reason.CONFLICT, e.reason());
        }

        long until = System.currentTimeMillis() + 30_000;
        while (backupStatus(name) != null || backupStores(name)) {
            assertTrue("the handheld did not forget the VM", System.currentTimeMillis() < until);
            assertTrue(running(a, name));
            assertFalse("a second copy", b.exists(name));
            Thread.sleep(200);
        }
        agentCable.plug();
        onlyOnA(name, 8000);
        l = lease(name);
        assertTrue(l.path("holder").isNull());
        assertEquals(1, l.path("epoch").asLong());
        log.awaitCounter(log.lastCounter() + 1, 30_000);
        assertEquals("no reboot", 1, log.boots());
    }

    /**
     * Fencing without the agent: the laptop's agent dies and stays dead (its threads stop and its connections
     * break — in this JVM; its fencing watchdog is a separate process), its QEMU runs on. The watchdog destroys
     * the guest on A at the fence time (5.25 s after the last renewal), while the lease is still the laptop's;
     * only after the lease expired does the handheld take it over and resume the guest on B. At no moment do two
     * QEMU processes of the guest exist; the guest counts on on B from the latest checkpoint, consistent.
     */
    @Test
    public void anAgentDeadPastItsLeaseIsFencedOnItsHostBeforeTheBackupRecovers() throws Exception {
        String name = newName();
        SerialLog log = startGuest(name);
        laptop.service.enable(protection(name));
        laptop.service.checkpointNow(name);
        log.awaitCounter(log.lastCounter() + 1, 30_000);
        long stored = laptop.service.checkpointNow(name).sequence();
        Path fence = laptop.home.resolve("work").resolve("fence");
        long watchdog = Long.parseLong(Files.readString(fence.resolve(name + ".deadline.pid")).strip());
        assertTrue("the watchdog is on duty", ProcessHandle.of(watchdog).map(ProcessHandle::isAlive).orElse(false));
        assertTrue("a process of its own", ProcessHandle.current().pid() != watchdog);
        long qemu = Long.parseLong(Files.readString(testbed.work().resolve("hosts").resolve(hostA)
                .resolve("run/qemu/" + name + ".pid"), StandardCharsets.US_ASCII).strip());

        long killed = System.nanoTime();
        laptop.kill();
        assertTrue("QEMU runs on", runs(qemu));
        long aGone = -1;
        long bRuns = -1;
        java.time.Instant aGoneAt = null;
        JsonNode leaseWhenAGone = null;
        long deadline = System.currentTimeMillis() + 60_000;
        while (bRuns < 0 || handheld.service.lastRecovery(name) == null) {
            assertTrue("no recovery", System.currentTimeMillis() < deadline);
            boolean onA = runs(qemu);
            boolean onB = running(b, name);
            assertFalse("two running copies", onA && onB);
            if (!onA && aGone < 0) {
                aGoneAt = java.time.Instant.now();
                aGone = (System.nanoTime() - killed) / 1_000_000;
                leaseWhenAGone = lease(name);
            }
            if (onB && bRuns < 0) {
                bRuns = (System.nanoTime() - killed) / 1_000_000;
            }
            Thread.sleep(50);
        }
        RecoveryResult r = handheld.service.lastRecovery(name);
        String watchdogLog = Files.readString(fence.resolve(name + ".log"));
        System.out.print(watchdogLog);
        System.out.printf("agent killed; its QEMU destroyed by the watchdog after %d ms (lease then: %s), the guest "
                + "running on B after %d ms (checkpoint %d, epoch %d, recovery %d ms)%n", aGone, leaseWhenAGone, bRuns,
                r.sequence(), r.epoch(), r.recoveryMillis());
        assertTrue("A's QEMU gone first", aGone >= 0 && aGone < bRuns);
        assertEquals("gone while the lease was still the laptop's", laptopId.id(),
                leaseWhenAGone.path("holder").asText());
        assertEquals(1, leaseWhenAGone.path("epoch").asLong());
        // same machine, same wall clock: seen gone (so gone at the latest then) before the lease's expiry
        JsonNode e = leaseWhenAGone.path("expiresAt");
        java.time.Instant expiresAt = e.isNumber()
                ? java.time.Instant.ofEpochSecond(0, e.decimalValue().movePointRight(9).longValue())
                : java.time.Instant.parse(e.asText());
        assertTrue("gone " + aGoneAt + " before the lease expired at the IT center " + expiresAt,
                aGoneAt.isBefore(expiresAt));
        assertTrue("within the fence time after the kill: " + aGone, aGone < 5000 + 1000);
        assertEquals(2, r.epoch());
        assertEquals(stored, r.sequence());
        assertTrue(watchdogLog, watchdogLog.contains("killed QEMU pid " + qemu));
        System.out.printf("QEMU seen gone %d ms before the lease's expiry%n",
                Duration.between(aGoneAt, expiresAt).toMillis());
        long until = System.currentTimeMillis() + 5000;
        while (ProcessHandle.of(watchdog).map(ProcessHandle::isAlive).orElse(false)) {
            assertTrue("the watchdog exits after fencing", System.currentTimeMillis() < until);
            Thread.sleep(100);
        }
        int printed = log.counters().size();
        long wait = System.currentTimeMillis() + 30_000;
        while (log.counters().size() < printed + 3 && System.currentTimeMillis() < wait) {
            Thread.sleep(200);
        }
        assertTrue("the guest counts on on B:\n" + log.tail(), log.counters().size() >= printed + 3);
        assertEquals("no reboot", 1, log.boots());
        assertEquals("disk consistent with memory", 0, log.diskErrors());
    }

    /**
     * The IT center restarts (bin/stop, bin/start) while a checkpoint is under way: the checkpoint
     * completes (it does not need the IT center); the laptop cannot renew its lease, so it pauses its
     * guest until it can; the handheld, which still hears the heartbeats, does not recover. After the
     * restart the lease is renewed at the same epoch, the guest resumes on A and checkpoints go on.
     */
    @Test
    public void restartingTheItCenterMidCheckpointKeepsOneCopyAndTheLease() throws Exception {
        String name = newName();
        SerialLog log = startGuest(name);
        laptop.service.enable(new CheckpointSettings(name, hostA, backupAddress(), Duration.ofHours(1),
                Compression.ZSTD, true));
        laptop.service.checkpointNow(name);
        long epoch = lease(name).path("epoch").asLong();

        AtomicReference<Object> during = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(random.nextInt(1000));
                during.set(laptop.service.checkpointNow(name));
            } catch (RuntimeException | InterruptedException e) {
                during.set(e);
            }
        });
        t.start();
        AtomicReference<Long> restartMillis = new AtomicReference<>();
        Thread restart = new Thread(() -> {
            try {
                restartMillis.set(itc.restart());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        restart.start();
        boolean sawPaused = false;
        while (restart.isAlive()) {
            assertFalse("two running copies", running(a, name) && running(b, name));
            assertFalse("no recovery while the primary lives", b.exists(name));
            sawPaused |= a.domain(name).state() == DomainState.PAUSED;
            Thread.sleep(200);
        }
        t.join(30_000);
        assertNotNull("IT center restarted", restartMillis.get());
        System.out.printf("IT center restart: %d ms; the checkpoint under way: %s; the guest was paused: %s%n",
                restartMillis.get(), during.get(), sawPaused);
        assertTrue("the checkpoint under way completed: " + during.get(), during.get() instanceof CheckpointRecord);
        assertTrue("the laptop paused its guest while it could not renew", sawPaused);

        long until = System.currentTimeMillis() + 20_000;
        while (a.domain(name).state() != DomainState.RUNNING) {
            assertTrue("the guest was not resumed", System.currentTimeMillis() < until);
            Thread.sleep(200);
        }
        JsonNode l = lease(name);
        assertEquals(laptopId.id(), l.path("holder").asText());
        assertEquals(epoch, l.path("epoch").asLong());
        CheckpointRecord next = laptop.service.checkpointNow(name);
        StoredCheckpoint s = handheld.service.stored().stream().filter(x -> x.vm().equals(name)).findFirst().orElseThrow();
        assertEquals(next.sequence(), s.sequence());
        assertFalse(b.exists(name));
        int printed = log.counters().size();
        log.awaitCounter(log.lastCounter() + 2, 30_000);
        assertTrue(log.counters().size() > printed);
        assertEquals("no reboot", 1, log.boots());
        assertEquals("disk consistent with memory", 0, log.diskErrors());
    }

    /** kill -9 of the guest's QEMU, by the pid libvirt wrote for it on host A. */
    private void kill9(String domain) throws Exception {
        CheckpointFixtures.kill9(testbed, hostA, domain);
    }
}
