package io.ferry.itests.transport;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.ChannelException;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.hypervisor.MemoryMode;
import io.ferry.api.itcenter.AuditEvent;
import io.ferry.api.migration.Cause;
import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.MigrationRequest;
import io.ferry.api.migration.Phase;
import io.ferry.api.migration.ProgressListener;
import io.ferry.attestation.verifier.SoftwareAttester;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.channel.testing.TestPki;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;
import io.ferry.itests.TestbedHypervisors;
import io.ferry.migration.internal.SecureMigrations;

/**
 * Secure live migration with real parts, outside Karaf: an IT center's real logic in the test JVM
 * ({@link TestItCenter}: registry, CA and CRL, attestation verdicts, audit), two agents ("laptop" on
 * testbed host A, "home" on host B) enrolled there, with mutual-TLS channels on the certificates it
 * issued, the real peer attestation bound to the channel and judged by the IT center, the real
 * hypervisor protection (kernel-text baseline of the guest), the real policy service on a signed
 * policy, the real migration engine with its state folder, and the test guest. Everything between
 * the agents passes TCP taps that see what the network sees, and can cut or tamper with it.
 * <p>
 * Every failure before the target's confirmation is injected (refusals, a cut tunnel channel, a cut
 * link, a tampered stream, a killed agent on either side, a killed QEMU, a libvirt error, a timeout)
 * and each leaves the guest running on the source, once. An agent is "killed" in this JVM by
 * closing everything it has at once (channel server, open channels and tunnels, engine), then it
 * is started again on the same data folder. The fault campaign ({@link #z_faultCampaign}) repeats
 * random faults at random moments; {@code -Dferry.campaign=full} runs its full size.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class SecureMigrationIT {

    /** A guest-physical address in the test guest's RAM that its small workload leaves alone. */
    private static final long MARKER_GPA = 0xc800000L;

    private static Testbed testbed;
    private static String hostA;
    private static String hostB;
    private static LibvirtHypervisor a;
    private static LibvirtHypervisor b;
    private static KeyPair policyKey;
    private static byte[] marker;
    private static Path state;
    private static TestItCenter itCenter;
    private static SecureAgent laptop;
    private static SecureAgent home;
    /** The network in front of home and in front of laptop. */
    private static TcpTap tapHome;
    private static TcpTap tapLaptop;
    private static String name;
    private static SerialLog log;
    private static int policyVersion;

    @BeforeClass
    public static void setUp() throws Exception {
        testbed = Testbed.load();
        String[] hosts = System.getProperty("ferry.itest.hosts", "ita itb").split(" ");
        hostA = hosts[0];
        hostB = hosts[1];
        a = TestbedHypervisors.connect(hostA, testbed.hostUri(hostA));
        b = TestbedHypervisors.connect(hostB, testbed.hostUri(hostB));
        policyKey = SecureAgent.policyKey();
        byte[] random = new byte[10];
        new SecureRandom().nextBytes(random);
        marker = ("FERRY-MARKER-" + HexFormat.of().formatHex(random)).getBytes(StandardCharsets.US_ASCII);
        state = Files.createTempDirectory("ferry-secure-migration");

        itCenter = new TestItCenter(state);
        laptop = new SecureAgent(itCenter.enrol("laptop"), a, policyKey, marker, state.resolve("laptop"));
        home = new SecureAgent(itCenter.enrol("home"), b, policyKey, marker, state.resolve("home"));
        tapHome = new TcpTap(home.raw.port(), marker);
        tapLaptop = new TcpTap(laptop.raw.port(), marker);

        name = "ferry-sec-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        Path vms = Files.createDirectories(testbed.work().resolve("vms"));
        Path disk = vms.resolve(name + ".qcow2");
        Path serial = vms.resolve(name + ".log");
        Files.copy(testbed.work().resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
        a.define(testbed.guestXml(name, disk, serial));
        a.start(name);
        log = new SerialLog(serial);
        log.awaitCounter(3, 120_000);
        laptop.baseline(name);
    }

    @AfterClass
    public static void tearDown() throws Exception {
        for (LibvirtHypervisor h : new LibvirtHypervisor[] { a, b }) {
            if (h == null) {
                continue;
            }
            try {
                if (name != null && h.exists(name)) {
                    if (h.domain(name).state().isActive()) {
                        h.stop(name, true);
                    }
                    h.undefine(name);
                }
            } catch (RuntimeException e) {
                System.err.println("cleanup on " + h.hostName() + ": " + e.getMessage());
            }
        }
        for (AutoCloseable c : new AutoCloseable[] { laptop, home, tapHome, tapLaptop, itCenter }) {
            if (c != null) {
                c.close();
            }
        }
        if (name != null && testbed != null) {
            Files.deleteIfExists(testbed.work().resolve("vms").resolve(name + ".qcow2"));
            Files.deleteIfExists(testbed.work().resolve("vms").resolve(name + ".log"));
        }
        if (state != null) {
            try (var files = Files.walk(state)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    // ------------------------------------------------------------------------------ helpers

    private static AgentAddress homeAddress() {
        return new AgentAddress(home.id(), "127.0.0.1", tapHome.port());
    }

    private static AgentAddress laptopAddress() {
        return new AgentAddress(laptop.id(), "127.0.0.1", tapLaptop.port());
    }

    /** The signed policy of the guest, naming the devices that may hold it. */
    private static void importPolicy(String... devices) throws Exception {
        laptop.importPolicy(SecureAgent.signedPolicy(policyKey, ++policyVersion, name, a.domain(name).uuid(), devices));
    }

    private static MigrationOutcome migrate(String user) {
        return migrate(MigrationRequest.of(name, homeAddress(), user));
    }

    private static MigrationOutcome migrate(MigrationRequest r) {
        MigrationOutcome o = laptop.engine.migrateOut(r, ProgressListener.NONE);
        System.out.println("outcome: " + o);
        return o;
    }

    /** The guest runs on A once, nothing of it is left on B, and it went on counting without a reboot. */
    private static void assertGuestStillOnA(MigrationOutcome o) throws Exception {
        assertFalse(o.reason(), o.succeeded());
        assertTrue(o.reason(), o.runsOnSource());
        assertEquals(DomainState.RUNNING, a.domain(name).state());
        await(() -> !b.exists(name), "no copy of the guest is left on " + hostB);
        assertEquals("one QEMU of the guest", 1, qemuPids(name).size());
        long last = log.lastCounter();
        log.awaitCounter(last + 2, 30_000);
        assertEquals("one boot", 1, log.boots());
    }

    /** The IT center's audit has the source's event of this migration, and the target's when it got the offer. */
    private static void assertAudited(MigrationOutcome o, boolean source, boolean target) throws Exception {
        await(() -> (!source || audited(o.id(), "migration.out.")) && (!target || audited(o.id(), "migration.in.")),
                "the IT center's audit records migration " + o.id() + (source ? " (source)" : "")
                        + (target ? " (target)" : ""));
    }

    private static boolean audited(String session, String kindPrefix) {
        return itCenter.audit(name).stream()
                .anyMatch(e -> e.kind().startsWith(kindPrefix) && e.detail().contains("session " + session));
    }

    // ------------------------------------------------------------------------------ refusals

    @Test
    public void a_aStrangersCertificateIsRefused() throws Exception {
        importPolicy(laptop.id(), home.id());
        TestPki strangers = new TestPki("another CA");
        // a target that claims to be home with a certificate of another CA
        TlsAgentChannels impostor = TestChannels.start(strangers.agent(home.id()));
        try {
            MigrationOutcome o = migrate(MigrationRequest.of(name, new AgentAddress(home.id(), "127.0.0.1",
                    impostor.port()), "alice"));
            assertEquals(o.reason(), Cause.CHANNEL, o.cause());
            assertGuestStillOnA(o);
            assertAudited(o, true, false);
        } finally {
            impostor.close();
        }
        // and an agent with a stranger's certificate cannot open a migration channel to home
        TlsAgentChannels stranger = TestChannels.start(strangers.agent(laptop.id()));
        try {
            stranger.open(homeAddress(), SecureMigrations.PURPOSE, Duration.ofSeconds(5));
            fail("a stranger's certificate must be refused");
        } catch (ChannelException expected) {
            System.out.println("stranger refused: " + expected.getMessage());
        } finally {
            stranger.close();
        }
        assertTrue(home.engine.history().isEmpty());
    }

    @Test
    public void b_aRevokedCertificateIsRefused() throws Exception {
        SecureAgent old = new SecureAgent(itCenter.enrol("old-phone"), b, policyKey, null, state.resolve("old-phone"));
        try {
            importPolicy(laptop.id(), home.id(), old.id());
            itCenter.revoke(old.id());
            // laptop does not hand the guest to a device whose certificate the IT center revoked
            MigrationOutcome o = migrate(MigrationRequest.of(name, old.address(), "alice"));
            assertEquals(o.reason(), Cause.CHANNEL, o.cause());
            assertGuestStillOnA(o);
            // nor does home accept a migration channel from it
            try {
                old.raw.open(homeAddress(), SecureMigrations.PURPOSE, Duration.ofSeconds(5));
                fail("a revoked certificate must be refused");
            } catch (ChannelException expected) {
                System.out.println("revoked agent refused: " + expected.getMessage());
            }
            assertTrue(old.engine.history().isEmpty());
        } finally {
            old.close();
            importPolicy(laptop.id(), home.id());
        }
    }

    @Test
    public void c_aUserThePolicyDoesNotAllowIsRefused() throws Exception {
        MigrationOutcome o = migrate("mallory");
        assertEquals(o.reason(), Cause.POLICY, o.cause());
        assertTrue(o.reason(), o.reason().contains("denies"));
        assertGuestStillOnA(o);
        assertAudited(o, true, false);
    }

    @Test
    public void d_anUntrustedTargetIsRefusedWithTheAttestationFinding() throws Exception {
        // a device whose QEMU is not the published one: the IT center rates it below 'trusted'
        TestItCenter.Enrolled patched = itCenter.enrol("patched-pc");
        patched.tpm().measure(TestItCenter.QEMU, "7.2.15", "qemu 7.2.15 with a patch nobody published");
        SecureAgent rogue = new SecureAgent(patched, b, policyKey, null, state.resolve("patched-pc"));
        try {
            importPolicy(laptop.id(), home.id(), rogue.id());
            MigrationOutcome o = migrate(MigrationRequest.of(name, rogue.address(), "alice"));
            assertEquals(o.reason(), Cause.POLICY, o.cause());
            assertTrue(o.reason(), o.reason().contains("rates " + rogue.id() + " 'measured'"));
            assertTrue("the refusal names the attestation finding: " + o.reason(),
                    o.reason().contains("digest mismatch for " + TestItCenter.QEMU));
            assertGuestStillOnA(o);
            assertAudited(o, true, false);

            // its quotes signed by a key the IT center does not know: not genuine
            patched.tpm().signer = SoftwareAttester.newKey();
            MigrationOutcome forged = migrate(MigrationRequest.of(name, rogue.address(), "alice"));
            assertEquals(forged.reason(), Cause.ATTESTATION, forged.cause());
            assertTrue(forged.reason(), forged.reason().contains("not genuine"));
            assertGuestStillOnA(forged);
            assertTrue("no offer reached the untrusted device", rogue.engine.history().isEmpty());
        } finally {
            rogue.close();
            importPolicy(laptop.id(), home.id());
        }
    }

    // ------------------------------------------------------------------------------ failures in flight

    @Test
    public void e_aTunnelChannelCutMidMigrationAbortsWithTheGuestOnTheSource() throws Exception {
        laptop.tapped.cutAfter = 16L << 20;
        try {
            MigrationOutcome o = migrate("alice");
            assertTrue("the test cut a tunnel channel", laptop.tapped.cut);
            assertEquals(o.reason(), Cause.CHANNEL, o.cause());
            assertTrue(o.reason(), o.reason().contains("tunnel channel to " + home.id()));
            assertGuestStillOnA(o);
            assertAudited(o, true, true);
            assertFalse(home.engine.history().get(0).succeeded());
        } finally {
            laptop.tapped.cutAfter = 0;
            laptop.tapped.cut = false;
        }
    }

    @Test
    public void f_aTamperedStreamAbortsWithTheGuestOnTheSource() throws Exception {
        tapHome.tamperAfter = 8L << 20;
        try {
            MigrationOutcome o = migrate("alice");
            assertTrue("the test flipped a bit on the wire", tapHome.tampered);
            assertTrue(o.reason(), o.cause() == Cause.CHANNEL || o.cause() == Cause.LIBVIRT);
            assertEquals(Phase.TRANSFER, o.phase());
            assertGuestStillOnA(o);
            assertAudited(o, true, true);
        } finally {
            tapHome.tamperAfter = 0;
            tapHome.tampered = false;
        }
    }

    @Test
    public void g_aCutLinkAbortsWithTheGuestOnTheSource() throws Exception {
        MigrationOutcome o = withFault(8L << 20, () -> {
            tapHome.down = true;
            tapHome.cut();
        });
        tapHome.down = false;
        assertTrue(o.reason(), o.cause() == Cause.CHANNEL || o.cause() == Cause.LIBVIRT);
        assertGuestStillOnA(o);
        assertAudited(o, true, true); // home's event reaches the IT center on its own link
    }

    @Test
    public void h_aKilledTargetQemuAbortsWithTheGuestOnTheSource() throws Exception {
        MigrationOutcome o = withFault(8L << 20, () -> killIncomingQemu());
        // QEMU's stream goes through the agents: the dead QEMU's end closes the target's end of the stream
        // channel, and the source may see that (often as a reset, not told apart from a cut) before libvirt
        // reports its failed job
        assertTrue(o.reason(), o.cause() == Cause.LIBVIRT || o.cause() == Cause.CHANNEL);
        assertGuestStillOnA(o);
        assertAudited(o, true, true);
    }

    @Test
    public void i_aKilledTargetAgentLeavesTheGuestOnTheSource() throws Exception {
        MigrationOutcome o;
        try {
            o = withFault(8L << 20, SecureMigrationIT::killHome);
        } finally {
            restartHome();
        }
        assertTrue(o.reason(), o.cause() == Cause.CHANNEL || o.cause() == Cause.LIBVIRT);
        assertGuestStillOnA(o);
        assertAudited(o, true, false);
    }

    @Test
    public void j_aKilledSourceAgentLeavesTheGuestOnTheSourceAndItsHistorySurvives() throws Exception {
        MigrationOutcome o;
        try {
            o = withFault(8L << 20, SecureMigrationIT::killLaptop);
        } finally {
            restartLaptop();
        }
        assertEquals(o.reason(), Cause.ABORTED, o.cause());
        assertGuestStillOnA(o);
        assertAudited(o, false, true);
        assertEquals("the restarted agent's history has the migration it was killed in", o.id(),
                laptop.engine.history().get(0).id());
    }

    @Test
    public void k_aMigrationThatTakesTooLongTimesOut() throws Exception {
        laptop.tapped.slowMillisPerWrite = 5;
        try {
            MigrationOutcome o = migrate(new MigrationRequest(name, null, homeAddress(), "alice", null,
                    Duration.ofSeconds(6)));
            assertEquals(o.reason(), Cause.TIMEOUT, o.cause());
            assertGuestStillOnA(o);
            assertAudited(o, true, true);
        } finally {
            laptop.tapped.slowMillisPerWrite = 0;
        }
    }

    // ------------------------------------------------------------------------------ success

    @Test
    public void l_anAllowedMigrationMovesTheGuestAndNoPlaintextCrossesTheNetwork() throws Exception {
        plantMarker(a);
        assertArrayEquals("the marker is in the guest's memory on " + hostA, marker,
                a.peekMemory(name, MARKER_GPA, marker.length, MemoryMode.PHYSICAL));
        long before = log.lastCounter();
        long wireBefore = tapHome.bytes.get();
        long plaintextBefore = laptop.tapped.plaintext.found.get();

        MigrationOutcome o = migrate("alice");

        assertTrue(o.reason(), o.succeeded());
        assertEquals(DomainState.RUNNING, b.domain(name).state());
        assertFalse("the source's definition went after the target confirmed", a.exists(name));
        assertEquals("one QEMU of the guest", 1, qemuPids(name).size());
        long memory = b.domain(name).memoryKiB() * 1024;
        long wire = tapHome.bytes.get() - wireBefore;
        System.out.printf("secure migration of %s: total %d ms (preparation %d ms, transfer %d ms), downtime %d ms, "
                + "%d MiB on the wire, marker in plaintext %d time(s), on the wire %d time(s)%n", name,
                o.totalMillis(), o.preparationMillis(), o.transferMillis(), o.downtimeMillis(), wire >> 20,
                laptop.tapped.plaintext.found.get() - plaintextBefore, tapHome.scan.found.get());
        assertArrayEquals("the marker arrived in the guest's memory on " + hostB, marker,
                b.peekMemory(name, MARKER_GPA, marker.length, MemoryMode.PHYSICAL));
        assertTrue("the guest's memory travelled between the agents: " + wire, wire > memory / 8);
        assertTrue("the marker went into the channel as plaintext (the search works)",
                laptop.tapped.plaintext.found.get() > plaintextBefore);
        assertEquals("the marker never crossed the network in plaintext", 0, tapHome.scan.found.get());
        assertEquals("nor in any earlier migration", 0, tapLaptop.scan.found.get());
        long after = log.lastCounter();
        log.awaitCounter(after + 3, 30_000);
        assertTrue(after >= before);
        assertEquals("one boot", 1, log.boots());
        assertEquals("disk intact", 0, log.diskErrors());
        await(() -> !home.engine.history().isEmpty() && home.engine.history().get(0).id().equals(o.id()),
                "home recorded the migrate-in");
        assertTrue(home.engine.history().get(0).succeeded());
        assertAudited(o, true, true);
        List<String> kinds = itCenter.audit(name).stream().filter(e -> e.detail().contains(o.id()))
                .map(AuditEvent::kind).toList();
        assertTrue(kinds.toString(), kinds.contains("migration.out.completed") && kinds.contains("migration.in.completed"));
        home.baseline(name);
    }

    // ------------------------------------------------------------------------------ fault campaign

    enum Fault { KILL_SOURCE_AGENT, KILL_TARGET_AGENT, KILL_TARGET_QEMU, CUT_LINK, CUT_AND_RESTORE_LINK, NONE }

    /**
     * Random faults at random moments of migrations back and forth (docs/fault-campaign.md, section
     * "Migration"); after each: the guest runs exactly once, the surviving agents audited the
     * migration, and the next one starts from wherever the guest is. 4 runs by default, 30 with
     * {@code -Dferry.campaign=full}; {@code -Dferry.campaign.seed=N} repeats a campaign.
     */
    @Test
    public void z_faultCampaign() throws Exception {
        boolean full = "full".equals(System.getProperty("ferry.campaign"));
        int runs = Integer.getInteger("ferry.campaign.runs", full ? 30 : 4);
        long seed = Long.getLong("ferry.campaign.seed", System.nanoTime());
        Random random = new Random(seed);
        System.out.println("fault campaign: " + runs + " runs, seed " + seed);
        List<String> summary = new ArrayList<>();
        Fault[] faults = Fault.values();
        pausedCopies = 0;
        for (int run = 0; run < runs; run++) {
            boolean outOfA = a.exists(name) && a.domain(name).state() == DomainState.RUNNING;
            Fault fault = faults[random.nextInt(faults.length)];
            long moment = random.nextInt(3000); // ms after the migration started
            SecureAgent source = outOfA ? laptop : home;
            SecureAgent target = outOfA ? home : laptop;
            TcpTap link = outOfA ? tapHome : tapLaptop;
            AgentAddress to = outOfA ? homeAddress() : laptopAddress();
            long firstBytes = source.tapped.tunnelBytes.get();
            CompletableFuture<MigrationOutcome> flight = CompletableFuture.supplyAsync(
                    () -> source.engine.migrateOut(MigrationRequest.of(name, to, "alice"), ProgressListener.NONE));
            long deadline = System.currentTimeMillis() + moment;
            while (System.currentTimeMillis() < deadline && !flight.isDone()) {
                Thread.sleep(5);
            }
            boolean hit = !flight.isDone();
            boolean sourceKilled = false;
            boolean targetKilled = false;
            if (hit) {
                switch (fault) {
                case KILL_SOURCE_AGENT -> {
                    kill(source);
                    sourceKilled = true;
                }
                case KILL_TARGET_AGENT -> {
                    kill(target);
                    targetKilled = true;
                }
                case KILL_TARGET_QEMU -> {
                    // only while memory is still being copied: before the switch-over the incoming QEMU is
                    // not the guest yet (the guest has 256 MiB; less than 64 MiB went over)
                    if (source.tapped.tunnelBytes.get() - firstBytes < (64L << 20)) {
                        killIncomingQemu();
                    } else {
                        hit = false;
                    }
                }
                case CUT_LINK -> {
                    link.down = true;
                    link.cut();
                }
                case CUT_AND_RESTORE_LINK -> {
                    link.down = true;
                    link.cut();
                    Thread.sleep(300);
                    link.down = false;
                }
                case NONE -> hit = false;
                }
            }
            MigrationOutcome o = flight.get(3, TimeUnit.MINUTES);
            link.down = false;
            if (sourceKilled) {
                restart(source);
            }
            if (targetKilled) {
                restart(target);
            }
            SecureAgent src = outOfA ? laptop : home;
            SecureAgent dst = outOfA ? home : laptop;
            await(() -> src.engine.inFlight().isEmpty() && dst.engine.inFlight().isEmpty(), "no migration in flight");
            // exactly one running copy, where the outcome says
            LibvirtHypervisor left = outOfA ? a : b;
            await(() -> running(a) ^ running(b) && (qemuPids(name).size() == 1 || paused(left)),
                    "the guest runs exactly once, and nothing of it is left but a copy libvirt left paused");
            boolean onA = running(a);
            boolean onB = running(b);
            boolean onSource = outOfA ? onA : onB;
            if (paused(left)) {
                // the link broke in libvirt's Finish phase: the target took over, libvirt left the source's
                // copy paused; the outcome must say so and not claim the guest, and nothing resumed it
                assertFalse(o.reason(), onSource);
                assertFalse(o.reason(), o.runsOnSource());
                assertTrue(o.reason(), o.reason().contains("left PAUSED"));
                System.out.println("fault campaign: the source's paused copy is removed (the owner's step)");
                left.stop(name, true);
                left.undefine(name);
                pausedCopies++;
            }
            assertEquals("one QEMU of the guest", 1, qemuPids(name).size());
            assertEquals("the outcome says where the guest runs: " + o, o.runsOnSource(), onSource);
            if (o.cause() == Cause.UNCONFIRMED) {
                // libvirt committed, then the confirmation was lost (an agent died in between): the guest
                // runs on the target once, and the source kept its stopped definition; the owner removes it
                assertFalse(o.reason(), onSource);
                assertTrue("the source keeps its definition without a confirmation", left.exists(name));
                left.undefine(name);
            } else {
                assertEquals("only a confirmed migration moved the guest: " + o, !o.succeeded(), onSource);
            }
            if (o.succeeded()) {
                assertFalse("the source's definition went after the confirmation", left.exists(name));
            }
            // the audit is complete for every agent that lived through it
            boolean offered = o.phase().ordinal() >= Phase.TRANSFER.ordinal() || o.succeeded();
            assertAudited(o, !sourceKilled, offered && !targetKilled);
            long last = log.lastCounter();
            log.awaitCounter(last + 1, 30_000);
            assertEquals("one boot", 1, log.boots());
            (onA ? laptop : home).baseline(name);
            String line = String.format("run %d: %s->%s, %s at %d ms%s: %s (%s)", run + 1, outOfA ? "A" : "B",
                    outOfA ? "B" : "A", fault, moment, hit ? "" : " (missed: the migration had ended)",
                    o.succeeded() ? "moved" : o.cause(), onA ? "on A" : "on B");
            System.out.println("fault campaign " + line);
            summary.add(line);
        }
        System.out.println("fault campaign, seed " + seed + ", " + pausedCopies + " paused source copies removed:\n  "
                + summary.stream().collect(Collectors.joining("\n  ")));
        assertEquals("one boot over the whole campaign", 1, log.boots());
        assertEquals("disk intact", 0, log.diskErrors());
    }

    private static int pausedCopies;

    private static boolean running(LibvirtHypervisor h) {
        return h.exists(name) && h.domain(name).state() == DomainState.RUNNING;
    }

    private static boolean paused(LibvirtHypervisor h) {
        return h.exists(name) && h.domain(name).state() == DomainState.PAUSED;
    }

    // ------------------------------------------------------------------------------ faults

    /**
     * Runs a migration out of laptop and injects the fault once this migration's tunnels carried
     * {@code bytes} (checked every 5 ms).
     */
    private static MigrationOutcome withFault(long bytes, ThrowingRunnable fault) throws Exception {
        SecureAgent source = laptop;
        long start = source.tapped.tunnelBytes.get();
        BooleanSupplier when = () -> source.tapped.tunnelBytes.get() - start > bytes;
        CompletableFuture<MigrationOutcome> flight = CompletableFuture.supplyAsync(
                () -> laptop.engine.migrateOut(MigrationRequest.of(name, homeAddress(), "alice"), ProgressListener.NONE));
        long deadline = System.currentTimeMillis() + 60_000;
        while (!when.getAsBoolean()) {
            if (flight.isDone()) {
                fail("the migration ended before the fault could be injected: " + flight.get());
            }
            assertTrue("the moment for the fault came within 60 s", System.currentTimeMillis() < deadline);
            Thread.sleep(5);
        }
        fault.run();
        MigrationOutcome o = flight.get(3, TimeUnit.MINUTES);
        System.out.println("outcome: " + o);
        return o;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Kills an agent: everything it has closed at once. */
    private static void kill(SecureAgent agent) {
        agent.close();
    }

    private static void killHome() {
        kill(home);
    }

    private static void killLaptop() {
        kill(laptop);
    }

    private static void restart(SecureAgent agent) throws IOException {
        if (agent == laptop) {
            restartLaptop();
        } else {
            restartHome();
        }
    }

    private static void restartHome() throws IOException {
        home = home.restart();
        tapHome.retarget(home.raw.port());
    }

    private static void restartLaptop() throws IOException {
        laptop = laptop.restart();
        tapLaptop.retarget(laptop.raw.port());
    }

    /**
     * kill -9 of the QEMU that receives the guest: during a migration the guest has two QEMU processes,
     * the running one and the target's incoming one, started later (both may have -incoming on their
     * command line: a guest that arrived by migration keeps it).
     */
    private static void killIncomingQemu() {
        List<ProcessHandle> qemus = qemuPids(name).stream().map(ProcessHandle::of).flatMap(java.util.Optional::stream)
                .sorted(java.util.Comparator.comparing(p -> p.info().startInstant().orElse(java.time.Instant.MIN)))
                .toList();
        if (qemus.size() != 2) {
            System.out.println("no incoming QEMU to kill (" + qemus.size() + " QEMU of the guest)");
            return;
        }
        ProcessHandle incoming = qemus.get(1);
        incoming.destroyForcibly();
        System.out.println("killed the incoming QEMU " + incoming.pid());
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ');
        } catch (IOException gone) {
            return null;
        }
    }

    /** The QEMU processes of a guest, on any testbed host. */
    private static List<Long> qemuPids(String guest) {
        List<Long> pids = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                long pid = Long.parseLong(p.getFileName().toString());
                String cmd = cmdline(pid);
                if (cmd != null && cmd.contains("guest=" + guest + ",")) {
                    pids.add(pid);
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return pids;
    }

    /**
     * Writes the marker into the guest's RAM at {@link #MARKER_GPA} through the QEMU process's memory:
     * the monitor translates the guest-physical address to QEMU's virtual address.
     */
    private static void plantMarker(Hypervisor h) throws IOException {
        String answer = h.monitorCommand(name, "gpa2hva 0x" + Long.toHexString(MARKER_GPA));
        Matcher m = Pattern.compile("is 0x([0-9a-f]+)").matcher(answer);
        assertTrue("gpa2hva: " + answer, m.find());
        long hva = Long.parseUnsignedLong(m.group(1), 16);
        List<Long> pids = qemuPids(name);
        assertEquals(1, pids.size());
        try (RandomAccessFile mem = new RandomAccessFile("/proc/" + pids.get(0) + "/mem", "rw")) {
            mem.seek(hva);
            mem.write(marker);
        }
    }

    private static void await(BooleanSupplier c, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!c.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                fail("not within 20 s: " + what);
            }
            Thread.sleep(100);
        }
    }
}
