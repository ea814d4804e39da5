package io.ferry.itests.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import io.ferry.api.hypervisor.MemoryMode;
import io.ferry.api.protection.IntegrityCheck;
import io.ferry.api.protection.ProtectedRegion;
import io.ferry.api.protection.ProtectionAction;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.hypervisor.protection.internal.BaselineFile;
import io.ferry.hypervisor.protection.internal.Protector;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;
import io.ferry.itests.TestbedHypervisors;

/**
 * Run by bench/run protection: on one testbed host, the test guest (256 MiB, KASLR on) and, side
 * by side in one run, what hypervisor protection costs: locating the kernel text (QEMU's info
 * tlb), one check of the kernel text (what every interval and every HypervisorProtection.check
 * costs), and a peek of the whole guest memory through the same libvirt path, per MiB and as a
 * ratio.
 */
public final class ProtectionBenchmark {

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        String host = args.length > 1 ? args[1] : "hpa";
        Testbed testbed = Testbed.load();
        LibvirtHypervisor hv = TestbedHypervisors.connect(host, testbed.hostUri(host));
        String name = "bench-protection";
        Path vms = Files.createDirectories(testbed.work().resolve("vms"));
        Path disk = vms.resolve(name + ".qcow2");
        Path serial = vms.resolve(name + ".log");
        Path baselines = Files.createTempFile("ferry-bench-baselines", ".json");
        try {
            if (hv.exists(name)) {
                if (hv.domain(name).state().isActive()) {
                    hv.stop(name, true);
                }
                hv.undefine(name);
            }
            Files.copy(testbed.work().resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
            Files.deleteIfExists(serial);
            hv.define(testbed.guestXml(name, disk, serial).replace(" nokaslr", ""));
            hv.start(name);
            new SerialLog(serial).awaitCounter(3, 180_000);
            Files.deleteIfExists(baselines);
            Protector p = new Protector(new Protector.Settings(ProtectionAction.REFUSE_MIGRATION, false, true,
                    List.of(), List.of(), Duration.ZERO), h -> hv, () -> List.of(hv), () -> null, () -> null,
                    new BaselineFile(baselines), Runnable::run, Clock.systemUTC(), 10);

            List<Long> locate = new ArrayList<>();
            List<Long> check = new ArrayList<>();
            List<Long> full = new ArrayList<>();
            ProtectedRegion text = null;
            p.baseline(host, name); // warm-up and the baseline
            long memory = hv.domain(name).memoryKiB() * 1024;
            for (int i = 0; i < rounds; i++) {
                long t0 = System.nanoTime();
                text = p.regions(host, name).get(0);
                locate.add(System.nanoTime() - t0);
                t0 = System.nanoTime();
                IntegrityCheck c = p.check(host, name);
                check.add(System.nanoTime() - t0);
                if (!c.intact()) {
                    throw new IllegalStateException("not intact: " + c);
                }
                t0 = System.nanoTime();
                for (long off = 0; off < memory; off += 1 << 20) {
                    hv.peekMemory(name, off, (int) Math.min(1 << 20, memory - off), MemoryMode.PHYSICAL);
                }
                full.add(System.nanoTime() - t0);
                System.out.printf("round %d: locate %d ms, check of %d KiB kernel text %d ms, peek of all %d MiB %d ms%n",
                        i + 1, locate.get(i) / 1_000_000, text.length() >> 10, check.get(i) / 1_000_000, memory >> 20,
                        full.get(i) / 1_000_000);
            }
            double textMiB = text.length() / 1048576.0;
            double checkMs = median(check) / 1e6;
            double fullMs = median(full) / 1e6;
            double locateMs = median(locate) / 1e6;
            System.out.printf("medians: locate %.0f ms; check %.0f ms (%.1f ms/MiB); full peek %.0f ms (%.1f ms/MiB)%n",
                    locateMs, checkMs, checkMs / textMiB, fullMs, fullMs / (memory / 1048576.0));
            System.out.printf("protection: kernel text %.1f MiB checked in %.0f ms (%.1f ms/MiB), %.1fx cheaper than a "
                    + "full peek of %d MiB (%.0f ms); locating it per boot %.0f ms%n", textMiB, checkMs,
                    checkMs / textMiB, fullMs / checkMs, memory >> 20, fullMs, locateMs);
        } finally {
            try {
                if (hv.exists(name)) {
                    if (hv.domain(name).state().isActive()) {
                        hv.stop(name, true);
                    }
                    hv.undefine(name);
                }
            } finally {
                hv.close();
                Files.deleteIfExists(disk);
                Files.deleteIfExists(baselines);
            }
        }
    }

    private static long median(List<Long> values) {
        List<Long> s = new ArrayList<>(values);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }
}
