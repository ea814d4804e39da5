package io.ferry.checkpoint.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.ferry.api.checkpoint.CheckpointException;
import io.ferry.api.checkpoint.Compression;

/**
 * The backup store with real qcow2 images (qemu-img, qemu-io): a primary-like disk chain is built,
 * checkpoints with full disks and deltas are received, and crashes are simulated at every step.
 */
class BackupStoreTest {

    static final byte[] KEY = CheckpointFormatTest.KEY;
    static final long LIMIT = 1L << 30;

    @TempDir
    Path tmp;

    private final DiskTool tool = new DiskTool("qemu-img");
    private Path primary;
    private Path root;

    /** A simulated crash: nothing below catches it, nothing is cleaned up. */
    static final class Crash extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    @BeforeEach
    void setUp() throws IOException {
        primary = Files.createDirectories(tmp.resolve("primary"));
        root = tmp.resolve("store");
    }

    private void qemuIo(Path image, String command) throws IOException, InterruptedException {
        ProcessBuilder b;
        if (image.getFileName().toString().endsWith(BackupStore.LUKS)) {
            Path secret = tmp.resolve("secret.b64");
            Files.write(secret, java.util.Base64.getEncoder().encode(Sealing.diskPassphrase(KEY)));
            b = new ProcessBuilder("qemu-io", "--object", "secret,id=s0,file=" + secret, "--image-opts",
                    "-c", command, "driver=qcow2,file.filename=" + image + ",encrypt.key-secret=s0");
        } else {
            b = new ProcessBuilder("qemu-io", "-f", "qcow2", "-c", command, image.toString());
        }
        Process p = b.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
    }

    /** The disk's first 256 KiB as the guest sees them. */
    private byte[] content(Path image) throws Exception {
        if (image.getFileName().toString().endsWith(BackupStore.LUKS)) {
            Path plain = tmp.resolve("plain-" + System.nanoTime() + ".qcow2");
            tool.decrypt(image, plain, Sealing.diskPassphrase(KEY));
            byte[] c = content(plain);
            Files.delete(plain);
            return c;
        }
        Path raw = tmp.resolve("raw-" + System.nanoTime());
        tool.run("convert", "-U", "-O", "raw", image.toString(), raw.toString());
        byte[] all = Files.readAllBytes(raw);
        Files.delete(raw);
        return Arrays.copyOf(all, 256 * 1024);
    }

    private static Header header(long seq, long base, long epoch) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        return new Header("vm1", "laptop", seq, base, epoch, 1_000 * seq, Compression.ZSTD, -1, salt);
    }

    private static byte[] checkpoint(Header h, byte[] key, Map<String, Path> disks) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CheckpointWriter w = new CheckpointWriter(out, h, key, null);
        w.section(Section.XML, "", ("<domain><name>vm1</name><seq>" + h.sequence() + "</seq></domain>")
                .getBytes(StandardCharsets.UTF_8));
        w.section(Section.MEMORY, "", CheckpointFormatTest.memory(h.sequence(), 100));
        for (Map.Entry<String, Path> d : disks.entrySet()) {
            w.section(h.baseSequence() >= 0 ? Section.DISK_DELTA : Section.DISK_FULL, d.getKey(),
                    Files.readAllBytes(d.getValue()));
        }
        w.finish();
        return out.toByteArray();
    }

    /**
     * A primary's history: a base disk written with 0x11, checkpoint 1 (full), then the guest writes
     * 0x22 into an overlay that checkpoint 2 ships as its delta, then 0x33 for checkpoint 3.
     */
    private final class History {
        final Path base = primary.resolve("base.qcow2");
        final Path o1 = primary.resolve("o1.qcow2");
        final Path o2 = primary.resolve("o2.qcow2");
        byte[] cp1;
        byte[] cp2;
        byte[] cp3;
        byte[] disk1;
        byte[] disk2;
        byte[] disk3;

        History() throws Exception {
            tool.create(base, "16M");
            qemuIo(base, "write -P 0x11 0 128k");
            disk1 = content(base);
            Path full = primary.resolve("full.qcow2");
            tool.flatten(base, full);
            cp1 = checkpoint(header(1, -1, 1), KEY, Map.of("vda", full));
            tool.overlay(base, o1);
            qemuIo(o1, "write -P 0x22 64k 64k");
            disk2 = content(o1);
            cp2 = checkpoint(header(2, 1, 1), KEY, Map.of("vda", o1));
            tool.commit(o1);
            tool.overlay(base, o2);
            qemuIo(o2, "write -P 0x33 0 32k");
            disk3 = content(o2);
            cp3 = checkpoint(header(3, 2, 1), KEY, Map.of("vda", o2));
        }
    }

    private BackupStore open(BackupStore.StepHook hook) throws IOException {
        return new BackupStore(root, tool, LIMIT, hook, vm -> KEY);
    }

    private Path baseOf(BackupStore store) throws IOException {
        try (var files = Files.list(root.resolve("vm1"))) {
            return files.filter(f -> f.getFileName().toString().startsWith("disk-vda-")).findFirst().orElseThrow();
        }
    }

    @Test
    void appliesFullThenDeltasKeepingADiskBaseConsistentWithTheLatest() throws Exception {
        History h = new History();
        BackupStore store = open(BackupStore.StepHook.NONE);
        assertThat(store.receive("vm1", new ByteArrayInputStream(h.cp1), KEY).sequence()).isEqualTo(1);
        assertThat(content(baseOf(store))).isEqualTo(h.disk1);
        store.receive("vm1", new ByteArrayInputStream(h.cp2), KEY);
        assertThat(content(baseOf(store))).isEqualTo(h.disk2);
        store.receive("vm1", new ByteArrayInputStream(h.cp3), KEY);
        assertThat(content(baseOf(store))).isEqualTo(h.disk3);
        assertThat(store.latest("vm1").orElseThrow().sequence()).isEqualTo(3);
        try (var files = Files.list(root.resolve("vm1"))) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder("manifest.properties",
                    "cp-3.fck", "disk-vda-1.luks.qcow2", "incoming");
        }
        // the disk base at rest is encrypted (qcow2 LUKS): none of the guest's written patterns is in the file
        byte[] base = Files.readAllBytes(baseOf(store));
        for (int pattern : new int[] {0x11, 0x22, 0x33}) {
            byte[] run = new byte[512];
            Arrays.fill(run, (byte) pattern);
            assertThat(indexOf(base, run)).as("pattern %x in the clear", pattern).isEqualTo(-1);
        }
        byte[] clearRun = new byte[512];
        Arrays.fill(clearRun, (byte) 0x11);
        assertThat(indexOf(Files.readAllBytes(primary.resolve("base.qcow2")), clearRun))
                .as("the check can see a pattern in a plain image").isNotEqualTo(-1);
        // and it cannot be opened without the key
        assertThatThrownBy(() -> tool.decrypt(baseOf(store), tmp.resolve("nokey.qcow2"), new byte[32]))
                .isInstanceOf(IOException.class);
        // at rest the memory image is encrypted: the clear memory is not in the stored file
        byte[] stored = Files.readAllBytes(root.resolve("vm1/cp-3.fck"));
        byte[] page = Arrays.copyOfRange(CheckpointFormatTest.memory(3, 100), 2 * 4096, 2 * 4096 + 64);
        assertThat(indexOf(stored, page)).isEqualTo(-1);

        BackupStore.Recovery r = store.takeForRecovery("vm1", KEY, tmp.resolve("work"), 2);
        assertThat(Files.readAllBytes(r.memory())).isEqualTo(CheckpointFormatTest.memory(3, 100));
        assertThat(r.domainXml()).contains("<seq>3</seq>");
        assertThat(content(r.disks().get("vda"))).isEqualTo(h.disk3);
        assertThat(store.latest("vm1")).isEmpty();
        assertThat(store.recovered("vm1")).isTrue();
        // the old primary's next checkpoint is refused: the VM was recovered here
        assertThatThrownBy(() -> store.receive("vm1", new ByteArrayInputStream(checkpoint(header(4, -1, 1), KEY,
                Map.of())), KEY)).isInstanceOf(CheckpointException.class)
                .extracting(e -> ((CheckpointException) e).reason()).isEqualTo(CheckpointException.Reason.FENCED);
    }

    @Test
    void replayedOutOfOrderWrongKeyCorruptAndTruncatedCheckpointsAreRejectedWhole() throws Exception {
        History h = new History();
        BackupStore store = open(BackupStore.StepHook.NONE);
        store.receive("vm1", new ByteArrayInputStream(h.cp1), KEY);
        // out of order: checkpoint 3's delta applies on 2, which is not here
        assertRejected(store, h.cp3, KEY);
        store.receive("vm1", new ByteArrayInputStream(h.cp2), KEY);
        // replayed
        assertRejected(store, h.cp2, KEY);
        assertRejected(store, h.cp1, KEY);
        // another key
        byte[] other = KEY.clone();
        other[5] ^= 1;
        assertRejected(store, h.cp3, other);
        // corrupt in the middle, truncated, cut before its last chunk
        byte[] corrupt = h.cp3.clone();
        corrupt[corrupt.length / 2] ^= 0x40;
        assertRejected(store, corrupt, KEY);
        assertRejected(store, Arrays.copyOf(h.cp3, h.cp3.length - 1), KEY);
        assertRejected(store, Arrays.copyOf(h.cp3, h.cp3.length / 2), KEY);
        // sent as another VM
        assertThatThrownBy(() -> store.receive("vm2", new ByteArrayInputStream(h.cp3), KEY))
                .isInstanceOf(CheckpointException.class);
        assertThat(store.latest("vm1").orElseThrow().sequence()).isEqualTo(2);
        assertThat(content(baseOf(store))).isEqualTo(h.disk2);
        try (var files = Files.list(root.resolve("vm1/incoming"))) {
            assertThat(files).isEmpty();
        }
        store.receive("vm1", new ByteArrayInputStream(h.cp3), KEY);
        assertThat(content(baseOf(store))).isEqualTo(h.disk3);
    }

    private static void assertRejected(BackupStore store, byte[] wire, byte[] key) {
        long before = store.latest("vm1").map(s -> s.sequence()).orElse(0L);
        assertThatThrownBy(() -> store.receive("vm1", new ByteArrayInputStream(wire), key))
                .isInstanceOf(CheckpointException.class)
                .extracting(e -> ((CheckpointException) e).reason()).isEqualTo(CheckpointException.Reason.REJECTED);
        assertThat(store.latest("vm1").map(s -> s.sequence()).orElse(0L)).isEqualTo(before);
    }

    @ParameterizedTest
    @EnumSource(BackupStore.Step.class)
    void aCrashAtAnyStepKeepsThePreviousOrTheNewCheckpointComplete(BackupStore.Step step) throws Exception {
        History h = new History();
        open(BackupStore.StepHook.NONE).receive("vm1", new ByteArrayInputStream(h.cp1), KEY);
        BackupStore crashing = open(s -> {
            if (s == step) {
                throw new Crash();
            }
        });
        assertThatThrownBy(() -> crashing.receive("vm1", new ByteArrayInputStream(h.cp2), KEY))
                .isInstanceOf(Crash.class);

        // the agent restarts
        BackupStore store = open(BackupStore.StepHook.NONE);
        long latest = store.latest("vm1").orElseThrow().sequence();
        boolean committed = step.compareTo(BackupStore.Step.MANIFEST_WRITTEN) >= 0;
        assertThat(latest).isEqualTo(committed ? 2 : 1);
        assertThat(content(baseOf(store))).isEqualTo(committed ? h.disk2 : h.disk1);
        BackupStore.Recovery r = store.takeForRecovery("vm1", KEY, tmp.resolve("work"), 2);
        assertThat(r.domainXml()).contains("<seq>" + latest + "</seq>");
        assertThat(Files.readAllBytes(r.memory())).isEqualTo(CheckpointFormatTest.memory(latest, 100));
        assertThat(content(r.disks().get("vda"))).isEqualTo(committed ? h.disk2 : h.disk1);
    }

    @Test
    void aCrashInTheMiddleOfCommittingADeltaIsFinishedAtTheNextStart() throws Exception {
        History h = new History();
        open(BackupStore.StepHook.NONE).receive("vm1", new ByteArrayInputStream(h.cp1), KEY);
        open(BackupStore.StepHook.NONE).receive("vm1", new ByteArrayInputStream(h.cp2), KEY);
        // a commit cut short: half of the delta's clusters reached the base, and the manifest still names the delta
        BackupStore crashing = open(s -> {
            if (s == BackupStore.Step.COMMITTED) {
                throw new Crash();
            }
        });
        assertThatThrownBy(() -> crashing.receive("vm1", new ByteArrayInputStream(h.cp3), KEY))
                .isInstanceOf(Crash.class);
        Path base = baseOf(crashing);
        qemuIo(base, "write -P 0x33 0 16k"); // as if only part of the commit was written
        BackupStore store = open(BackupStore.StepHook.NONE);
        assertThat(store.latest("vm1").orElseThrow().sequence()).isEqualTo(3);
        assertThat(content(baseOf(store))).isEqualTo(h.disk3);
    }

    /** Checkpoint 2 carries its memory as a delta on 1's: stored whole and recovered as the primary had it. */
    @Test
    void aMemoryDeltaIsRebuiltOnTheLatestImageAndKeptWhole() throws Exception {
        History h = new History();
        BackupStore store = open(BackupStore.StepHook.NONE);
        store.receive("vm1", new ByteArrayInputStream(h.cp1), KEY);
        byte[] m1 = CheckpointFormatTest.memory(1, 100);
        byte[] m2 = m1.clone();
        for (int page : new int[] {3, 17, 50}) {
            Arrays.fill(m2, page * 4096, page * 4096 + 300, (byte) 0x5a);
        }
        Path p1 = Files.write(tmp.resolve("m1"), m1);
        Path p2 = Files.write(tmp.resolve("m2"), m2);
        Path delta = tmp.resolve("d");
        long size = MemoryDelta.encode(p1, p2, delta);
        assertThat(size).isLessThan(m2.length / 20);

        // a delta naming another base, and one whose image does not rebuild, are rejected
        assertRejected(store, memoryDeltaCheckpoint(header(2, 1, 1), "0", Files.readAllBytes(delta), h.o1), KEY);
        byte[] bad = Files.readAllBytes(delta);
        bad[bad.length - 40] ^= 1;
        assertRejected(store, memoryDeltaCheckpoint(header(2, 1, 1), "1", bad, h.o1), KEY);

        store.receive("vm1", new ByteArrayInputStream(memoryDeltaCheckpoint(header(2, 1, 1), "1",
                Files.readAllBytes(delta), h.o1)), KEY);
        try (var files = Files.list(root.resolve("vm1/incoming"))) {
            assertThat(files).as("no clear memory left behind").isEmpty();
        }
        assertThat(content(baseOf(store))).isEqualTo(h.disk2);
        BackupStore.Recovery r = store.takeForRecovery("vm1", KEY, tmp.resolve("work"), 2);
        assertThat(Files.readAllBytes(r.memory())).isEqualTo(m2);
        assertThat(r.domainXml()).contains("<seq>2</seq>");
    }

    private static byte[] memoryDeltaCheckpoint(Header h, String base, byte[] delta, Path diskDelta) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CheckpointWriter w = new CheckpointWriter(out, h, KEY, null);
        w.section(Section.XML, "", ("<domain><name>vm1</name><seq>" + h.sequence() + "</seq></domain>")
                .getBytes(StandardCharsets.UTF_8));
        w.section(Section.MEMORY_DELTA, base, delta);
        w.section(Section.DISK_DELTA, "vda", Files.readAllBytes(diskDelta));
        w.finish();
        return out.toByteArray();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
