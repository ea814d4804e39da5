package io.ferry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.Hypervisor;

/**
 * The Foundation's end-to-end check: in the real Ferry distribution, the console defines and
 * starts the test guest on testbed host A, moves it live to host B with vm:migrate, and the
 * guest's counter goes on where it was, with no reboot and its disk intact.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class LiveMigrationIT extends FerryTestSupport {

    private static final RolePrincipal ADMIN = new RolePrincipal("admin");

    private final List<Cleanup> cleanups = new ArrayList<>();

    @Override
    protected void ferryOptions(List<Option> options) {
        Testbed testbed = Testbed.load();
        String[] hosts = System.getProperty("ferry.itest.hosts", "ita itb").split(" ");
        for (String host : hosts) {
            String cfg = "etc/io.ferry.hypervisor-" + host + ".cfg";
            options.add(editConfigurationFilePut(cfg, "ferry.host", host));
            options.add(editConfigurationFilePut(cfg, "uri", testbed.hostUri(host)));
            // the testbed keeps disk images in one folder that every host sees
            options.add(editConfigurationFilePut(cfg, "storage.shared", "true"));
        }
        options.add(systemProperty("ferry.testbed.dir").value(testbed.dir().toString()));
        options.add(systemProperty("ferry.testbed.work").value(testbed.work().toString()));
        options.add(systemProperty("ferry.itest.hosts").value(String.join(" ", hosts)));
    }

    @After
    public void cleanUp() {
        for (Cleanup c : cleanups) {
            try {
                c.run();
            } catch (RuntimeException e) {
                System.err.println("cleanup: " + e.getMessage());
            }
        }
    }

    @Test
    public void guestMovesLiveAndItsCounterContinues() throws Exception {
        String[] hosts = System.getProperty("ferry.itest.hosts").split(" ");
        String hostA = hosts[0];
        String hostB = hosts[1];
        Hypervisor a = hypervisor(hostA);
        Hypervisor b = hypervisor(hostB);

        String name = "ferry-it-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        Path work = Path.of(System.getProperty("ferry.testbed.work"));
        Path vms = Files.createDirectories(work.resolve("vms"));
        Path disk = vms.resolve(name + ".qcow2");
        Files.copy(work.resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
        SerialLog serial = new SerialLog(vms.resolve(name + ".log"));
        Path xml = vms.resolve(name + ".xml");
        Files.writeString(xml, guestXml(name, disk, vms.resolve(name + ".log")), StandardCharsets.UTF_8);
        cleanups.add(() -> removeEverywhere(name, a, b));

        assertContains("Defined " + name, console("vm:define -H " + hostA + " " + xml));
        assertContains("Started " + name, console("vm:start -H " + hostA + " " + name));
        assertEquals(DomainState.RUNNING, a.domain(name).state());
        assertContains(name, console("vm:list -H " + hostA));
        long beforeBadInput = serial.awaitCounter(3, 120_000);

        // Bad input: a clear one-line error, and the guest keeps running on A.
        assertConsoleError("vm:start -H " + hostA + " no-such-vm", "no such domain");
        assertConsoleError("vm:migrate -H " + hostA + " " + name + " qemu+tcp://127.0.0.1:1/system",
                "keeps running on " + hostA);
        assertConsoleError("vm:migrate -H " + hostA + " " + name + " nowhere", "no hypervisor host named 'nowhere'");
        // A target that refuses: host B already holds another domain of that name.
        b.define(guestXml(name, disk, vms.resolve(name + "-impostor.log")));
        assertConsoleError("vm:migrate -H " + hostA + " " + name + " " + hostB, "keeps running on " + hostA);
        b.undefine(name);
        assertEquals(DomainState.RUNNING, a.domain(name).state());
        assertFalse(b.exists(name));
        long beforeMigration = serial.awaitCounter(beforeBadInput + 2, 30_000);

        String out = console("vm:migrate -H " + hostA + " " + name + " " + hostB);
        assertContains("Migrated " + name, out);
        assertContains("downtime", out);
        assertContains("total time", out);

        assertEquals(DomainState.RUNNING, b.domain(name).state());
        assertFalse("the source must not keep a copy", a.exists(name));
        long afterMigration = serial.lastCounter();
        assertTrue("counter before " + beforeMigration + ", after " + afterMigration, afterMigration >= beforeMigration);
        serial.awaitCounter(afterMigration + 4, 30_000); // it keeps counting on B

        assertEquals("the guest booted once:\n" + serial.tail(), 1, serial.boots());
        assertEquals("disk errors:\n" + serial.tail(), 0, serial.diskErrors());
        assertEquals("counter sequence has a gap or restart:\n" + serial.tail(), -1, serial.firstGap());
        assertTrue(serial.counters().get(0) == 1L);
    }

    /**
     * The primitives a checkpoint is made of, on real QEMU: two live external snapshots with
     * memory, the frozen middle overlay committed into the base, then the guest killed and
     * restored from the second memory image with replacement XML pointing at the base. It must
     * continue from that instant: no new boot, a counter that resumes from the checkpoint, and a
     * disk that agrees with memory.
     */
    @Test
    public void snapshotCommitAndRestoreResumeAtTheCheckpoint() throws Exception {
        String hostA = System.getProperty("ferry.itest.hosts").split(" ")[0];
        Hypervisor a = hypervisor(hostA);
        String name = "ferry-cp-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        Path work = Path.of(System.getProperty("ferry.testbed.work"));
        Path dir = Files.createDirectories(work.resolve("vms").resolve(name));
        Path base = dir.resolve("base.qcow2");
        Files.copy(work.resolve("guest/disk-template.qcow2"), base, StandardCopyOption.REPLACE_EXISTING);
        SerialLog serial = new SerialLog(dir.resolve("serial.log"));
        String xml = guestXml(name, base, dir.resolve("serial.log"));
        cleanups.add(() -> removeEverywhere(name, a));

        a.define(xml);
        String definedXml = a.domainXml(name); // with the UUID libvirt gave it, disk = base
        a.start(name);
        serial.awaitCounter(3, 120_000);
        assertTrue(a.monitorCommand(name, "info status").contains("running"));
        byte[] page = a.peekMemory(name, 0x100000, 8192, io.ferry.api.hypervisor.MemoryMode.PHYSICAL);
        assertEquals(8192, page.length);

        a.snapshotWithMemory(name, "cp1", dir.resolve("mem-1"), dir);
        Path overlay1 = dir.resolve(name + "-vda-cp1.qcow2");
        assertTrue("overlay after the first snapshot", Files.exists(overlay1));
        serial.awaitCounter(serial.lastCounter() + 3, 30_000);

        a.snapshotWithMemory(name, "cp2", dir.resolve("mem-2"), dir);
        long atCheckpoint = serial.lastCounter();
        a.blockCommit(name, "vda", base, overlay1);
        serial.awaitCounter(atCheckpoint + 4, 30_000); // runs on after the checkpoint
        long beforeKill = serial.lastCounter();

        a.stop(name, true); // the device dies
        a.restore(dir.resolve("mem-2"), definedXml, false);
        assertEquals(DomainState.RUNNING, a.domain(name).state());
        serial.awaitCounter(beforeKill + 3, 60_000);

        assertEquals("restored, not rebooted:\n" + serial.tail(), 1, serial.boots());
        assertEquals("disk agrees with memory:\n" + serial.tail(), 0, serial.diskErrors());
        List<Long> counters = serial.counters();
        int resumedAt = serial.firstGap();
        assertTrue("the counter goes back to the checkpoint once:\n" + serial.tail(), resumedAt > 0);
        long resumedValue = counters.get(resumedAt);
        assertTrue("resumed at " + resumedValue + ", checkpoint near " + atCheckpoint,
                resumedValue <= beforeKill && resumedValue >= atCheckpoint - 2 && resumedValue <= atCheckpoint + 3);
        assertTrue(a.domainXml(name).contains(base.toString()));
    }

    private Hypervisor hypervisor(String host) {
        return getOsgiService(Hypervisor.class, "(" + Hypervisor.HOST_PROPERTY + "=" + host + ")", 60_000);
    }

    private String console(String command) {
        return executeCommand(command, 300_000L, false, ADMIN);
    }

    private void assertConsoleError(String command, String expected) {
        try {
            String out = console(command);
            fail("'" + command + "' should have failed, printed: " + out);
        } catch (RuntimeException e) {
            assertTrue("'" + command + "' failed with: " + e.getMessage(),
                    e.getMessage() != null && e.getMessage().contains(expected));
            assertFalse("one line: " + e.getMessage(), e.getMessage().contains("\n"));
        }
    }

    private static String guestXml(String name, Path disk, Path serialLog) {
        return Testbed.guestXml(Path.of(System.getProperty("ferry.testbed.dir")), name, disk, serialLog);
    }

    private static void removeEverywhere(String name, Hypervisor... hosts) {
        for (Hypervisor h : hosts) {
            if (h.exists(name)) {
                if (h.domain(name).state().isActive()) {
                    h.stop(name, true);
                }
                h.undefine(name);
            }
        }
    }

    @FunctionalInterface
    private interface Cleanup {
        void run();
    }
}
