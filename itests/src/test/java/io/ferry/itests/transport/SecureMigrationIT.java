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
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
import io.ferry.api.migration.Cause;
import io.ferry.api.migration.MigrationOutcome;
import io.ferry.api.migration.MigrationRequest;
import io.ferry.api.migration.ProgressListener;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.channel.testing.TestPki;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;
import io.ferry.itests.TestbedHypervisors;
import io.ferry.migration.internal.SecureMigrations;

/**
 * Secure live migration with real parts, outside Karaf: two agents ("laptop" on testbed host A,
 * "home" on host B) with mutual-TLS channels from a test CA, the real migration engine and
 * libvirt relay/tunnel, the real policy service deciding on a policy signed with a test IT-center
 * key, and the test guest. Everything between the agents passes a TCP tap that sees what the
 * network sees; a marker planted in the guest's memory must be in the plaintext the relay writes
 * into the channel and never on the wire. Peer attestation and hypervisor protection are TEST
 * DOUBLES here (see {@link SecureAgent}): their real implementations need an IT center and a
 * protection baseline.
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
    private static SecureAgent laptop;
    private static SecureAgent home;
    private static TcpTap tap;
    private static String name;
    private static SerialLog log;

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

        TestPki pki = new TestPki("IT center");
        laptop = new SecureAgent(pki.agent("laptop"), a, policyKey, marker);
        home = new SecureAgent(pki.agent("home"), b, policyKey, null);
        tap = new TcpTap(home.address().port(), marker);

        name = "ferry-sec-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        Path vms = Files.createDirectories(testbed.work().resolve("vms"));
        Path disk = vms.resolve(name + ".qcow2");
        Path serial = vms.resolve(name + ".log");
        Files.copy(testbed.work().resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
        a.define(testbed.guestXml(name, disk, serial));
        a.start(name);
        log = new SerialLog(serial);
        log.awaitCounter(3, 120_000);

        laptop.importPolicy(SecureAgent.signedPolicy(policyKey, name, a.domain(name).uuid(), "laptop", "home"));
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
        for (AutoCloseable c : new AutoCloseable[] { laptop, home, tap }) {
            if (c != null) {
                c.close();
            }
        }
        if (name != null && testbed != null) {
            Files.deleteIfExists(testbed.work().resolve("vms").resolve(name + ".qcow2"));
            Files.deleteIfExists(testbed.work().resolve("vms").resolve(name + ".log"));
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    private static AgentAddress homeAddress() {
        return new AgentAddress("home", "127.0.0.1", tap.port());
    }

    private static MigrationOutcome migrate(String user) {
        MigrationOutcome o = laptop.engine.migrateOut(MigrationRequest.of(name, homeAddress(), user),
                ProgressListener.NONE);
        System.out.println("outcome: " + o);
        return o;
    }

    private static void assertGuestStillOnA(MigrationOutcome o) throws Exception {
        assertFalse(o.reason(), o.succeeded());
        assertTrue(o.reason(), o.runsOnSource());
        assertEquals(DomainState.RUNNING, a.domain(name).state());
        long deadline = System.currentTimeMillis() + 20_000;
        while (b.exists(name) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertFalse("no copy of the guest is left on " + hostB, b.exists(name));
        long last = log.lastCounter();
        log.awaitCounter(last + 2, 30_000);
        assertEquals("one boot", 1, log.boots());
    }

    @Test
    public void a_aStrangersCertificateIsRefused() throws Exception {
        TestPki strangers = new TestPki("another CA");
        // a target that claims to be "home" with a certificate of another CA
        TlsAgentChannels impostor = TestChannels.start(strangers.agent("home"));
        try {
            MigrationOutcome o = laptop.engine.migrateOut(MigrationRequest.of(name,
                    new AgentAddress("home", "127.0.0.1", impostor.port()), "alice"), ProgressListener.NONE);
            assertEquals(o.reason(), Cause.CHANNEL, o.cause());
            assertGuestStillOnA(o);
        } finally {
            impostor.close();
        }
        // and an agent with a stranger's certificate cannot open a migration channel to home
        TlsAgentChannels stranger = TestChannels.start(strangers.agent("laptop"));
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
    public void b_aUserThePolicyDoesNotAllowIsRefused() throws Exception {
        MigrationOutcome o = migrate("mallory");
        assertEquals(o.reason(), Cause.POLICY, o.cause());
        assertTrue(o.reason(), o.reason().contains("denies"));
        assertGuestStillOnA(o);
    }

    @Test
    public void c_aTargetWithALowVerdictIsRefused() throws Exception {
        laptop.attestation.peerLevel = "untrusted";
        try {
            MigrationOutcome o = migrate("alice");
            assertEquals(o.reason(), Cause.POLICY, o.cause());
            assertTrue(o.reason(), o.reason().contains("rates home 'untrusted'"));
            assertGuestStillOnA(o);
        } finally {
            laptop.attestation.peerLevel = "trusted";
        }
    }

    @Test
    public void d_aChannelCutMidMigrationAbortsWithTheGuestOnTheSource() throws Exception {
        laptop.tapped.cutAfter = 16L << 20;
        try {
            MigrationOutcome o = migrate("alice");
            assertTrue("the test cut a tunnel channel", laptop.tapped.cut);
            assertEquals(o.reason(), Cause.CHANNEL, o.cause());
            assertTrue(o.reason(), o.reason().contains("tunnel channel to home"));
            assertGuestStillOnA(o);
            await(() -> !home.engine.history().isEmpty(), "home recorded the failed migrate-in");
            assertFalse(home.engine.history().get(0).succeeded());
        } finally {
            laptop.tapped.cutAfter = 0;
        }
    }

    @Test
    public void e_anAllowedMigrationMovesTheGuestAndNoPlaintextCrossesTheNetwork() throws Exception {
        plantMarker(a);
        assertArrayEquals("the marker is in the guest's memory on " + hostA, marker,
                a.peekMemory(name, MARKER_GPA, marker.length, MemoryMode.PHYSICAL));
        long before = log.lastCounter();
        long wireBefore = tap.bytes.get();

        MigrationOutcome o = migrate("alice");

        assertTrue(o.reason(), o.succeeded());
        assertEquals(DomainState.RUNNING, b.domain(name).state());
        assertFalse(a.exists(name));
        long memory = b.domain(name).memoryKiB() * 1024;
        long wire = tap.bytes.get() - wireBefore;
        System.out.printf("secure migration of %s: total %d ms (preparation %d ms, transfer %d ms), downtime %d ms, "
                + "%d MiB on the wire, marker in plaintext %d time(s), on the wire %d time(s)%n", name,
                o.totalMillis(), o.preparationMillis(), o.transferMillis(), o.downtimeMillis(), wire >> 20,
                laptop.tapped.plaintext.found.get(), tap.scan.found.get());
        assertArrayEquals("the marker arrived in the guest's memory on " + hostB, marker,
                b.peekMemory(name, MARKER_GPA, marker.length, MemoryMode.PHYSICAL));
        assertTrue("the guest's memory travelled between the agents: " + wire, wire > memory / 8);
        assertTrue("the marker went into the channel as plaintext (the search works)",
                laptop.tapped.plaintext.found.get() > 0);
        assertEquals("the marker never crossed the network in plaintext", 0, tap.scan.found.get());
        long after = log.lastCounter();
        log.awaitCounter(after + 3, 30_000);
        assertTrue(after >= before);
        assertEquals("one boot", 1, log.boots());
        assertEquals("disk intact", 0, log.diskErrors());
        assertTrue(home.engine.history().get(0).succeeded());
        assertEquals(o.id(), home.engine.history().get(0).id());
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
        long pid = qemuPid(name);
        try (RandomAccessFile mem = new RandomAccessFile("/proc/" + pid + "/mem", "rw")) {
            mem.seek(hva);
            mem.write(marker);
        }
    }

    private static long qemuPid(String guest) throws IOException {
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmd.contains("guest=" + guest + ",")) {
                        return Long.parseLong(p.getFileName().toString());
                    }
                } catch (IOException gone) {
                    // the process ended while we looked
                }
            }
        }
        throw new IllegalStateException("no QEMU process for " + guest);
    }

    private static void await(java.util.function.BooleanSupplier c, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!c.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                fail("not within 20 s: " + what);
            }
            Thread.sleep(100);
        }
    }

}
