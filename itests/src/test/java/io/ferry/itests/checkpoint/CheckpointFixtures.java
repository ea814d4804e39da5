package io.ferry.itests.checkpoint;

import static org.junit.Assert.assertEquals;

import java.io.IOException;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import io.ferry.checkpoint.internal.CheckpointConfig;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;
import io.ferry.seal.testing.MemorySealStorage;

/**
 * What the checkpoint tests of this package share: the counting test guest and its clean-up, a QEMU kill, seal
 * storage snapshots, the checkpoint configuration of an agent in this JVM (see {@link CheckpointAgent}).
 */
final class CheckpointFixtures {

    private CheckpointFixtures() {
    }

    /** A fresh test guest started on {@code host}, counting; returns its serial log. */
    static SerialLog startGuest(Testbed testbed, LibvirtHypervisor host, String name) throws Exception {
        Path vms = testbed.work().resolve("vms");
        Path disk = vms.resolve(name + ".qcow2");
        Path serial = vms.resolve(name + ".log");
        Files.copy(testbed.work().resolve("guest/disk-template.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
        Files.deleteIfExists(serial);
        host.define(testbed.guestXml(name, disk, serial));
        host.start(name);
        SerialLog log = new SerialLog(serial);
        log.awaitCounter(3, 120_000);
        return log;
    }

    /** Guest {@code name} stopped and undefined on {@code host}, where it exists. */
    static void removeGuest(LibvirtHypervisor host, String name) {
        if (host.exists(name)) {
            if (host.domain(name).state().isActive()) {
                host.stop(name, true);
            }
            if (host.domain(name).persistent()) {
                host.undefine(name);
            }
        }
    }

    /** After a test: its guests removed from each host (a failure reported, not thrown), the hosts closed. */
    static void removeGuests(Collection<String> names, LibvirtHypervisor... hosts) {
        for (LibvirtHypervisor h : hosts) {
            for (String name : names) {
                try {
                    removeGuest(h, name);
                } catch (RuntimeException e) {
                    System.err.println("cleanup on " + h.hostName() + ": " + e.getMessage());
                }
            }
            h.close();
        }
    }

    /** The guests' files (disk, serial log) in the testbed's vms folder deleted. */
    static void deleteGuestFiles(Testbed testbed, Collection<String> names) throws IOException {
        try (var files = Files.list(testbed.work().resolve("vms"))) {
            for (Path f : files.filter(f -> names.stream().anyMatch(n -> f.getFileName().toString().startsWith(n)))
                    .toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    /** A folder deleted with everything in it; nothing where there is none. */
    static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    /**
     * The checkpoint configuration of an agent in this JVM with its folders under {@code home}, its VMs on testbed
     * host {@code host} (and that host's QEMU pid folder for the fencing watchdog): heartbeats every 0.5 s, a
     * primary presumed gone after 3 s, safety first, checkpoints up to 4 GiB; then {@code attributes}; every other
     * attribute its declared default. A proxy, so that attributes added to CheckpointConfig later need no change
     * here; an attribute that CheckpointConfig does not have, or a value of the wrong type, fails at once.
     */
    static CheckpointConfig config(Path home, String host, Map<String, ?> attributes) {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("store_dir", home.resolve("store").toString());
        values.put("work_dir", home.resolve("work").toString());
        values.put("recovery_host", host);
        values.put("heartbeat_interval_ms", 500L);
        values.put("failure_timeout_ms", 3000L);
        values.put("itcenter_unreachable", "safety");
        // the host's libvirtd writes it in its own mount namespace
        values.put("qemu_pid_dir", Testbed.load().work().resolve("hosts").resolve(host).resolve("run/qemu").toString());
        values.put("max_checkpoint_bytes", 1L << 32);
        values.putAll(attributes);
        for (Map.Entry<String, Object> e : values.entrySet()) {
            Method m;
            try {
                m = CheckpointConfig.class.getMethod(e.getKey());
            } catch (NoSuchMethodException x) {
                throw new IllegalArgumentException("CheckpointConfig has no attribute " + e.getKey(), x);
            }
            if (!MethodType.methodType(m.getReturnType()).wrap().returnType().isInstance(e.getValue())) {
                throw new IllegalArgumentException(e.getKey() + " is a " + m.getReturnType() + ": " + e.getValue());
            }
        }
        return (CheckpointConfig) Proxy.newProxyInstance(CheckpointConfig.class.getClassLoader(),
                new Class<?>[] {CheckpointConfig.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "annotationType" -> CheckpointConfig.class;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    case "toString" -> "CheckpointConfig" + values;
                    default -> values.containsKey(method.getName()) ? values.get(method.getName())
                            : method.getDefaultValue();
                });
    }

    /** kill -9 of a guest's QEMU, by the pid the testbed host's libvirtd wrote for it. */
    static void kill9(Testbed testbed, String host, String domain) throws Exception {
        Path pidFile = testbed.work().resolve("hosts").resolve(host).resolve("run/qemu/" + domain + ".pid");
        String pid = Files.readString(pidFile, StandardCharsets.US_ASCII).strip();
        Process p = new ProcessBuilder("kill", "-9", pid).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals("kill -9 " + pid + ": " + out, 0, p.waitFor());
    }

    /** A copy of what {@code seal} holds, by name. */
    static Map<String, byte[]> snapshot(MemorySealStorage seal) {
        synchronized (seal) { // as its own methods
            Map<String, byte[]> copy = new TreeMap<>();
            seal.secrets.forEach((k, v) -> copy.put(k, v.clone()));
            return copy;
        }
    }
}
