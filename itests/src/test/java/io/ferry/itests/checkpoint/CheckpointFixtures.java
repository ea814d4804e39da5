package io.ferry.itests.checkpoint;

import static org.junit.Assert.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealException;
import io.ferry.api.seal.SealStatus;
import io.ferry.api.seal.SealStorage;
import io.ferry.hypervisor.internal.LibvirtHypervisor;
import io.ferry.itests.SerialLog;
import io.ferry.itests.Testbed;

/** What the checkpoint tests of this package share: the counting test guest, a QEMU kill, seal storage as a map. */
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

    /** kill -9 of a guest's QEMU, by the pid the testbed host's libvirtd wrote for it. */
    static void kill9(Testbed testbed, String host, String domain) throws Exception {
        Path pidFile = testbed.work().resolve("hosts").resolve(host).resolve("run/qemu/" + domain + ".pid");
        String pid = Files.readString(pidFile, StandardCharsets.US_ASCII).strip();
        Process p = new ProcessBuilder("kill", "-9", pid).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals("kill -9 " + pid + ": " + out, 0, p.waitFor());
    }

    /** Seal storage as a map: the agents' key handling, not the TPM, is under test here. */
    static final class MapSeal implements SealStorage {
        private final Map<String, byte[]> secrets = new HashMap<>();

        synchronized Map<String, byte[]> snapshot() {
            Map<String, byte[]> copy = new TreeMap<>();
            secrets.forEach((k, v) -> copy.put(k, v.clone()));
            return copy;
        }

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
                throw new SealException("get", n, SealException.Reason.NO_SUCH_SECRET, "no secret " + n);
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
