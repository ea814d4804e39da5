package io.ferry.itests.protection;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

import io.ferry.api.hypervisor.DomainState;
import io.ferry.api.hypervisor.Hypervisor;
import io.ferry.api.hypervisor.MemoryMode;
import io.ferry.api.protection.DomainBaseline;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.api.protection.IntegrityCheck.Status;
import io.ferry.api.protection.ProtectedRegion;
import io.ferry.api.protection.ProtectionAction;
import io.ferry.api.protection.ProtectionAlert;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.hypervisor.protection.internal.BaselineFile;
import io.ferry.hypervisor.protection.internal.Protector;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;
import io.ferry.itests.TestbedHypervisors;

/**
 * Hypervisor protection against a real guest on a testbed host, booted with KASLR: the kernel
 * text is located from the guest's page tables, its baseline holds while the guest runs, and one
 * byte written into it from the host (QEMU's gdbstub) is found CHANGED, alerted once, and, with
 * the PAUSE action, pauses the guest.
 */
public class GuestProtectionIT {

    private final Testbed testbed = Testbed.load();
    private final String host = System.getProperty("ferry.itest.hosts", "ita itb").split(" ")[0];
    private LibvirtHypervisor hv;
    private String name;
    private Path baselines;

    @Before
    public void setUp() throws Exception {
        hv = TestbedHypervisors.connect(host, testbed.hostUri(host));
        name = "ferry-prot-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        baselines = Files.createTempDirectory("ferry-protection").resolve("baselines.json");
    }

    @After
    public void tearDown() throws Exception {
        try {
            if (hv.exists(name)) {
                if (hv.domain(name).state().isActive()) {
                    hv.stop(name, true);
                }
                hv.undefine(name);
            }
        } finally {
            hv.close();
            Files.deleteIfExists(testbed.work().resolve("vms").resolve(name + ".qcow2"));
            Files.deleteIfExists(testbed.work().resolve("vms").resolve(name + ".log"));
            Files.deleteIfExists(baselines);
            Files.deleteIfExists(baselines.getParent());
        }
    }

    private Protector protector(ProtectionAction action) {
        return new Protector(new Protector.Settings(action, true, true, List.of(), List.of(), Duration.ofSeconds(1)),
                h -> host.equals(h) ? hv : null, () -> List.of(hv), () -> null, () -> null, new BaselineFile(baselines),
                Runnable::run, Clock.systemUTC(), 100);
    }

    @Test
    public void kernelTextBaselineHoldsAndAWriteFromTheHostIsCaughtAndPausesTheGuest() throws Exception {
        Path vms = Files.createDirectories(testbed.work().resolve("vms"));
        Path disk = vms.resolve(name + ".qcow2");
        Path serial = vms.resolve(name + ".log");
        Files.copy(testbed.work().resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
        // the test guest boots with nokaslr; protection must work with KASLR on
        String xml = testbed.guestXml(name, disk, serial).replace(" nokaslr", "");
        assertFalse(xml.contains("nokaslr"));
        hv.define(xml);
        hv.start(name);
        SerialLog log = new SerialLog(serial);
        log.awaitCounter(3, 120_000);

        Protector p = protector(ProtectionAction.PAUSE);
        List<ProtectedRegion> regions = p.regions(host, name);
        assertEquals(1, regions.size());
        ProtectedRegion text = regions.get(0);
        System.out.printf("kernel text of %s: va 0x%x pa 0x%x, %d KiB%n", name, text.virtualStart(),
                text.physicalStart(), text.length() >> 10);
        assertTrue("in the kernel image mapping", Long.compareUnsigned(text.virtualStart(), 0xffffffff80000000L) >= 0
                && Long.compareUnsigned(text.virtualStart(), 0xffffffffc0000000L) < 0);
        assertEquals("KASLR slides by 2 MiB", 0, text.virtualStart() % (2 << 20));
        assertTrue("a Debian kernel's text is several MiB: " + text.length(), text.length() > (4 << 20));
        assertTrue(text.length() < (64 << 20));
        // what was located is the kernel's code: the same bytes through the page tables and physically
        byte[] viaVirtual = hv.peekMemory(name, text.virtualStart(), 64, MemoryMode.VIRTUAL);
        byte[] viaPhysical = hv.peekMemory(name, text.physicalStart(), 64, MemoryMode.PHYSICAL);
        assertTrue(java.util.Arrays.equals(viaVirtual, viaPhysical));

        assertEquals(Status.NO_BASELINE, p.check(host, name).status());
        DomainBaseline b = p.baseline(host, name);
        assertEquals(text, b.regions().get(0).region());

        // the baseline holds while the guest runs (counter goes on, timers, interrupts, idle)
        long until = System.currentTimeMillis() + 8_000;
        int checks = 0;
        while (System.currentTimeMillis() < until) {
            IntegrityCheck c = p.check(host, name);
            assertEquals(c.findings().toString(), Status.INTACT, c.status());
            checks++;
            Thread.sleep(500);
        }
        p.round();
        assertEquals(Status.INTACT, p.check(host, name).status());
        assertTrue(p.alerts(10).isEmpty());
        System.out.printf("%d checks INTACT while the guest ran%n", checks);

        // an attacker on the host writes one byte into the kernel text (its last byte, padding)
        long target = text.virtualStart() + text.length() - 1;
        byte old = hv.peekMemory(name, target, 1, MemoryMode.VIRTUAL)[0];
        GdbStub.write(hv, name, 47000 + (int) (ProcessHandle.current().pid() % 1000), target,
                new byte[] {(byte) (old ^ 0x5a)});
        assertEquals((byte) (old ^ 0x5a), hv.peekMemory(name, target, 1, MemoryMode.VIRTUAL)[0]);

        IntegrityCheck changed = p.check(host, name);
        assertEquals(Status.CHANGED, changed.status());
        assertFalse(changed.intact());
        assertTrue(changed.findings().toString(), changed.findings().get(0).startsWith("kernel-text"));
        List<ProtectionAlert> alerts = p.alerts(10);
        assertEquals(1, alerts.size());
        assertEquals(ProtectionAlert.Kind.MEMORY_CHANGED, alerts.get(0).kind());
        assertEquals(name, alerts.get(0).domain());
        assertEquals(DomainState.PAUSED, hv.domain(name).state());
        // still CHANGED at every later check, and alerted only once
        p.round();
        assertEquals(Status.CHANGED, p.check(host, name).status());
        assertEquals(1, p.alerts(10).size());

        // a new protector (a restart or a hot update of the bundle) keeps the baseline: still CHANGED
        Protector successor = protector(ProtectionAction.REFUSE_MIGRATION);
        assertEquals(Status.CHANGED, successor.check(host, name).status());
    }
}
