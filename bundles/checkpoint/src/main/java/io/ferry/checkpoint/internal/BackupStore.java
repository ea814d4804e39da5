package io.ferry.checkpoint.internal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.security.SecureRandom;
import java.util.logging.Logger;
import java.util.regex.Pattern;

import io.ferry.api.checkpoint.CheckpointException;
import io.ferry.api.checkpoint.CheckpointException.Reason;
import io.ferry.api.checkpoint.Compression;
import io.ferry.api.checkpoint.StoredCheckpoint;

/**
 * The backup's store: per VM the latest complete checkpoint, kept as it arrived (encrypted), and
 * a disk base consistent with it. A checkpoint is received into {@code incoming/}, fsynced,
 * verified whole (every chunk, the digest, sequence and base), and only then moved in; the
 * manifest, replaced by an atomic rename after an fsync, is the single point where the new
 * checkpoint takes the previous one's place. Disk deltas are committed into the base after that
 * point, in a way that can be done again after a crash; until the manifest moves, the base is
 * untouched. A crash at any moment therefore leaves either the previous or the new checkpoint,
 * each complete.
 */
final class BackupStore {

    /** Points in {@link #receive} and {@link #open} where a test may simulate a crash. */
    enum Step {
        RECEIVED, VERIFIED, MOVED, MANIFEST_WRITTEN, COMMITTING, COMMITTED, CLEANED
    }

    /** Called at each step; a test throws to simulate a crash there. */
    @FunctionalInterface
    interface StepHook {
        void reached(Step step) throws IOException;

        StepHook NONE = step -> {
        };
    }

    /** What a recovery needs from the store: the VM XML, its memory image in clear, its disks. */
    record Recovery(StoredCheckpoint checkpoint, String domainXml, Path memory, Map<String, Path> disks) {
    }

    private static final Logger LOG = Logger.getLogger(BackupStore.class.getName());
    private static final Pattern VM = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Pattern TARGET = Pattern.compile("[a-z]{1,8}[a-z0-9]{0,8}");
    private static final String MANIFEST = "manifest.properties";
    /** The name ending of an encrypted disk base. */
    static final String LUKS = ".luks.qcow2";

    private final Path root;
    private final DiskTool disks;
    private final long maxBytes;
    private final StepHook hook;
    /** The VM keys (for the encrypted disk bases) by VM; null when not available (yet). */
    private final Function<String, byte[]> keys;
    private final SecureRandom random = new SecureRandom();

    BackupStore(Path root, DiskTool disks, long maxBytes, StepHook hook) throws IOException {
        this(root, disks, maxBytes, hook, vm -> null);
    }

    BackupStore(Path root, DiskTool disks, long maxBytes, StepHook hook, Function<String, byte[]> keys)
            throws IOException {
        this.root = Files.createDirectories(root);
        this.disks = disks;
        this.maxBytes = maxBytes;
        this.hook = hook;
        this.keys = keys;
        try (DirectoryStream<Path> vms = Files.newDirectoryStream(root)) {
            for (Path dir : vms) {
                if (Files.isDirectory(dir) && VM.matcher(dir.getFileName().toString()).matches()) {
                    recover(dir);
                }
            }
        }
    }

    // --- manifest

    private record Manifest(String vm, String primary, long sequence, long epoch, long takenAtMillis,
            Compression compression, String checkpoint, Map<String, String> disks, Map<String, String> pending,
            String state) {

        Properties toProperties() {
            Properties p = new Properties();
            p.setProperty("vm", vm);
            p.setProperty("primary", primary);
            p.setProperty("sequence", Long.toString(sequence));
            p.setProperty("epoch", Long.toString(epoch));
            p.setProperty("takenAt", Long.toString(takenAtMillis));
            p.setProperty("compression", compression.name());
            p.setProperty("checkpoint", checkpoint);
            p.setProperty("disks", join(disks));
            p.setProperty("pending", join(pending));
            p.setProperty("state", state);
            return p;
        }

        static Manifest of(Properties p) {
            return new Manifest(p.getProperty("vm"), p.getProperty("primary"), Long.parseLong(p.getProperty("sequence")),
                    Long.parseLong(p.getProperty("epoch")), Long.parseLong(p.getProperty("takenAt")),
                    Compression.valueOf(p.getProperty("compression")), p.getProperty("checkpoint"),
                    split(p.getProperty("disks")), split(p.getProperty("pending")), p.getProperty("state", "BACKUP"));
        }

        Manifest withPending(Map<String, String> newPending) {
            return new Manifest(vm, primary, sequence, epoch, takenAtMillis, compression, checkpoint, disks, newPending,
                    state);
        }

        private static String join(Map<String, String> m) {
            StringBuilder b = new StringBuilder();
            m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ",").append(k).append(':').append(v));
            return b.toString();
        }

        private static Map<String, String> split(String s) {
            Map<String, String> m = new TreeMap<>();
            if (s != null && !s.isBlank()) {
                for (String pair : s.split(",")) {
                    int colon = pair.indexOf(':');
                    m.put(pair.substring(0, colon), pair.substring(colon + 1));
                }
            }
            return m;
        }
    }

    private Optional<Manifest> manifest(String vm) {
        Path file = dir(vm).resolve(MANIFEST);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
            return Optional.of(Manifest.of(p));
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException(Reason.UNAVAILABLE, "unreadable manifest " + file + ": " + e.getMessage(), e);
        }
    }

    private void writeManifest(Path dir, Manifest m) throws IOException {
        Path tmp = dir.resolve(MANIFEST + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            m.toProperties().store(out, "Ferry backup store: the latest complete checkpoint of " + m.vm());
        }
        fsync(tmp);
        move(tmp, dir.resolve(MANIFEST));
        fsyncDirectory(dir);
    }

    // --- queries

    Optional<StoredCheckpoint> latest(String vm) {
        checkVm(vm);
        return manifest(vm).filter(m -> "BACKUP".equals(m.state())).map(m -> stored(vm, m));
    }

    List<StoredCheckpoint> list() {
        List<StoredCheckpoint> all = new ArrayList<>();
        try (DirectoryStream<Path> vms = Files.newDirectoryStream(root)) {
            for (Path dir : vms) {
                String vm = dir.getFileName().toString();
                if (VM.matcher(vm).matches()) {
                    latest(vm).ifPresent(all::add);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        all.sort((a, b) -> a.vm().compareTo(b.vm()));
        return all;
    }

    /** Whether checkpoints of the VM were recovered here (later ones from the old primary are refused). */
    boolean recovered(String vm) {
        checkVm(vm);
        return manifest(vm).map(m -> "RECOVERED".equals(m.state())).orElse(false);
    }

    private StoredCheckpoint stored(String vm, Manifest m) {
        Path dir = dir(vm);
        long size = size(dir.resolve(m.checkpoint()));
        for (String f : m.disks().values()) {
            size += size(dir.resolve(f));
        }
        return new StoredCheckpoint(vm, m.primary(), m.sequence(), m.epoch(), Instant.ofEpochMilli(m.takenAtMillis()),
                size, m.compression());
    }

    // --- receiving

    /**
     * Receives one checkpoint for {@code vm} from {@code in} (exactly one, up to its last chunk) and
     * makes it the latest if it is complete and verified, else rejects it whole.
     */
    synchronized StoredCheckpoint receive(String vm, InputStream in, byte[] vmKey) {
        return receive(vm, null, in, vmKey);
    }

    /** As {@link #receive(String, InputStream, byte[])}, from the agent {@code peer} (null: any), which must be the one that took it. */
    synchronized StoredCheckpoint receive(String vm, String peer, InputStream in, byte[] vmKey) {
        return receive(vm, peer, in, vmKey, h -> { });
    }

    /**
     * As {@link #receive(String, String, InputStream, byte[])}, with {@code authorize} called on the
     * header (after the format checks, before anything is written): it throws to refuse the sender.
     */
    synchronized StoredCheckpoint receive(String vm, String peer, InputStream in, byte[] vmKey,
            java.util.function.Consumer<Header> authorize) {
        checkVm(vm);
        Path dir = dir(vm);
        Path incoming = dir.resolve("incoming");
        Optional<Manifest> current = manifest(vm);
        Header header;
        try {
            header = Header.read(in);
        } catch (IOException e) {
            throw rejected(vm, e);
        }
        check(vm, header, current);
        if (peer != null && !peer.equals(header.primary())) {
            throw new CheckpointException(Reason.REJECTED, "checkpoint of " + vm + " taken by " + header.primary()
                    + " but sent by " + peer);
        }
        authorize.accept(header);
        List<Path> temporary = new ArrayList<>();
        try {
            Files.createDirectories(incoming);
            String stem = "cp-" + header.sequence();
            Path part = incoming.resolve(stem + ".fck.part");
            temporary.add(part);
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(part), 1 << 16)) {
                header.writeTo(out);
                Sealing.copyFrames(in, out, maxBytes);
            }
            fsync(part);
            hook.reached(Step.RECEIVED);

            // verify the whole checkpoint from what is on disk, and take the disk parts out in clear
            Map<String, Path> full = new LinkedHashMap<>();
            Map<String, Path> deltas = new LinkedHashMap<>();
            boolean[] seen = new boolean[2];
            byte[][] xmlBytes = new byte[1][];
            Path rebuilt = incoming.resolve(stem + ".mem");
            boolean[] memoryDelta = new boolean[1];
            try (InputStream stored = new BufferedInputStream(Files.newInputStream(part), 1 << 16)) {
                CheckpointReader.read(stored, vmKey, null, (type, name, length, data) -> {
                    switch (type) {
                        case XML -> {
                            seen[0] = true;
                            xmlBytes[0] = data.readAllBytes();
                        }
                        case MEMORY -> {
                            if (seen[1]) {
                                throw new CorruptCheckpointException("two memory images");
                            }
                            seen[1] = true;
                            data.transferTo(OutputStream.nullOutputStream());
                        }
                        case MEMORY_DELTA -> {
                            // rebuilt here from the latest's image; kept whole (re-sealed) once verified
                            if (seen[1]) {
                                throw new CorruptCheckpointException("two memory images");
                            }
                            seen[1] = true;
                            memoryDelta[0] = true;
                            Manifest now = current.orElseThrow(
                                    () -> new CorruptCheckpointException("a memory delta with no checkpoint here"));
                            if (header.baseSequence() != now.sequence() || !name.equals(Long.toString(now.sequence()))) {
                                throw new CorruptCheckpointException("a memory delta on checkpoint " + name
                                        + ", the latest here is " + now.sequence());
                            }
                            Path previous = incoming.resolve(stem + ".previous.mem");
                            temporary.add(previous);
                            temporary.add(rebuilt);
                            memoryImage(dir.resolve(now.checkpoint()), vmKey, previous);
                            try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(rebuilt), 1 << 16)) {
                                MemoryDelta.apply(previous, data, o, maxBytes);
                            }
                            Files.delete(previous);
                        }
                        case DISK_FULL, DISK_DELTA -> {
                            if (!TARGET.matcher(name).matches() || full.containsKey(name) || deltas.containsKey(name)) {
                                throw new CorruptCheckpointException("bad or repeated disk " + name);
                            }
                            Path file = incoming.resolve(stem + "-" + name + (type == Section.DISK_FULL ? ".full" : ".delta"));
                            temporary.add(file);
                            Files.copy(data, file, StandardCopyOption.REPLACE_EXISTING);
                            if (type == Section.DISK_FULL) {
                                // the base is kept encrypted (qcow2 LUKS) under a key derived from the VM key
                                Path encrypted = incoming.resolve(stem + "-" + name + ".luks");
                                temporary.add(encrypted);
                                disks.encrypt(file, encrypted, Sealing.diskPassphrase(vmKey));
                                Files.delete(file);
                                file = encrypted;
                            }
                            (type == Section.DISK_FULL ? full : deltas).put(name, file);
                        }
                        default -> throw new CorruptCheckpointException("unexpected section " + type);
                    }
                });
            }
            if (!seen[0] || !seen[1]) {
                throw new CorruptCheckpointException("no domain XML or no memory image");
            }
            Map<String, String> bases = current.map(Manifest::disks).orElse(Map.of());
            for (String target : deltas.keySet()) {
                if (!bases.containsKey(target)) {
                    throw new CorruptCheckpointException("a delta for disk " + target + ", which has no base here");
                }
            }
            Set<String> covered = new HashSet<>(full.keySet());
            covered.addAll(deltas.keySet());
            if (header.baseSequence() >= 0 && !covered.containsAll(bases.keySet())) {
                throw new CorruptCheckpointException("disks missing: has " + covered + ", the base has " + bases.keySet());
            }
            for (Path f : full.values()) {
                fsync(f);
            }
            for (Map.Entry<String, Path> d : deltas.entrySet()) {
                disks.rebaseUnsafe(d.getValue(), dir.resolve(bases.get(d.getKey())));
                fsync(d.getValue());
            }
            if (memoryDelta[0]) {
                // kept self-contained: the XML and the rebuilt memory image, sealed again under a fresh salt
                Path whole = incoming.resolve(stem + ".fck.whole");
                temporary.add(whole);
                Header kept = new Header(header.vm(), header.primary(), header.sequence(), header.baseSequence(),
                        header.epoch(), header.takenAtMillis(), header.compression(), -1, salt());
                try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(whole), 1 << 16);
                        InputStream m = new BufferedInputStream(Files.newInputStream(rebuilt), 1 << 16)) {
                    CheckpointWriter w = new CheckpointWriter(o, kept, vmKey, null);
                    w.section(Section.XML, "", xmlBytes[0]);
                    w.section(Section.MEMORY, "", m, Files.size(rebuilt));
                    w.finish();
                }
                Files.delete(rebuilt);
                fsync(whole);
                move(whole, part);
            }
            hook.reached(Step.VERIFIED);

            // move the parts in under names no live manifest uses
            String checkpointName = stem + ".fck";
            move(part, dir.resolve(checkpointName));
            Map<String, String> newDisks = new TreeMap<>(header.baseSequence() >= 0 ? bases : Map.of());
            Map<String, String> pending = new TreeMap<>();
            for (Map.Entry<String, Path> f : full.entrySet()) {
                String name = "disk-" + f.getKey() + "-" + header.sequence() + LUKS;
                move(f.getValue(), dir.resolve(name));
                newDisks.put(f.getKey(), name);
            }
            for (Map.Entry<String, Path> d : deltas.entrySet()) {
                String name = "delta-" + d.getKey() + "-" + header.sequence() + ".qcow2";
                move(d.getValue(), dir.resolve(name));
                pending.put(d.getKey(), name);
            }
            fsyncDirectory(dir);
            hook.reached(Step.MOVED);

            Manifest next = new Manifest(vm, header.primary(), header.sequence(), header.epoch(), header.takenAtMillis(),
                    header.compression(), checkpointName, newDisks, pending, "BACKUP");
            writeManifest(dir, next);
            hook.reached(Step.MANIFEST_WRITTEN);
            complete(dir, next, hook, vmKey);
            return stored(vm, next);
        } catch (CorruptCheckpointException e) {
            deleteAll(temporary);
            throw rejected(vm, e);
        } catch (IOException e) {
            deleteAll(temporary);
            throw new CheckpointException(Reason.UNAVAILABLE, "checkpoint " + header.sequence() + " of " + vm
                    + " not stored: " + e.getMessage() + "; checkpoint "
                    + current.map(Manifest::sequence).orElse(0L) + " stays the latest", e);
        }
    }

    private void check(String vm, Header header, Optional<Manifest> current) {
        if (!vm.equals(header.vm())) {
            throw new CheckpointException(Reason.REJECTED, "a checkpoint of " + header.vm() + " sent as " + vm);
        }
        if (current.isPresent()) {
            Manifest m = current.get();
            if ("RECOVERED".equals(m.state())) {
                throw new CheckpointException(Reason.FENCED, vm + " was recovered here at epoch " + m.epoch()
                        + ": checkpoints of the old primary are refused");
            }
            if (header.sequence() <= m.sequence()) {
                throw new CheckpointException(Reason.REJECTED, "checkpoint " + header.sequence() + " of " + vm
                        + " is replayed or out of order: the latest here is " + m.sequence());
            }
            if (header.epoch() < m.epoch()) {
                throw new CheckpointException(Reason.REJECTED, "checkpoint " + header.sequence() + " of " + vm
                        + " is from lease epoch " + header.epoch() + ", older than " + m.epoch());
            }
        }
        long have = current.map(Manifest::sequence).orElse(-1L);
        if (header.baseSequence() >= 0 && header.baseSequence() != have) {
            throw new CheckpointException(Reason.REJECTED, "checkpoint " + header.sequence() + " of " + vm
                    + " applies on " + header.baseSequence() + ", but the latest here is " + (have < 0 ? "none" : have));
        }
    }

    private CheckpointException rejected(String vm, IOException e) {
        return new CheckpointException(Reason.REJECTED, "checkpoint of " + vm + " rejected: " + e.getMessage(), e);
    }

    /** After the manifest moved: commit pending deltas into the bases, then drop what no manifest names. */
    private void complete(Path dir, Manifest m, StepHook hook, byte[] vmKey) throws IOException {
        if (!m.pending().isEmpty()) {
            boolean encrypted = m.disks().values().stream().anyMatch(f -> f.endsWith(LUKS));
            if (encrypted && vmKey == null) {
                LOG.warning("the key of " + m.vm() + " is not available (yet): its pending disk deltas stay pending");
                return;
            }
            hook.reached(Step.COMMITTING);
            for (Map.Entry<String, String> delta : m.pending().entrySet()) {
                if (m.disks().getOrDefault(delta.getKey(), "").endsWith(LUKS)) {
                    disks.commitEncrypted(dir.resolve(delta.getValue()), Sealing.diskPassphrase(vmKey));
                } else {
                    disks.commit(dir.resolve(delta.getValue()));
                }
            }
            for (String base : m.disks().values()) {
                fsync(dir.resolve(base));
            }
            hook.reached(Step.COMMITTED);
            m = m.withPending(Map.of());
            writeManifest(dir, m);
        }
        clean(dir, m);
        hook.reached(Step.CLEANED);
    }

    /** Removes the files the manifest does not name. */
    private static void clean(Path dir, Manifest m) throws IOException {
        Set<String> keep = new HashSet<>(m.disks().values());
        keep.addAll(m.pending().values());
        keep.add(m.checkpoint());
        keep.add(MANIFEST);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                if (Files.isRegularFile(f) && !keep.contains(f.getFileName().toString())) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** At start: finish what a crash interrupted, drop partial receptions. */
    private void recover(Path dir) throws IOException {
        Path incoming = dir.resolve("incoming");
        if (Files.isDirectory(incoming)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(incoming)) {
                for (Path f : files) {
                    Files.deleteIfExists(f);
                }
            }
        }
        Optional<Manifest> m = manifest(dir.getFileName().toString());
        if (m.isPresent()) {
            if (!m.get().pending().isEmpty()) {
                LOG.info("completing checkpoint " + m.get().sequence() + " of " + m.get().vm() + " after a restart");
            }
            byte[] key = null;
            if (!m.get().pending().isEmpty()) {
                try {
                    key = keys.apply(m.get().vm());
                } catch (RuntimeException e) {
                    LOG.warning("no key for " + m.get().vm() + " at start: " + e.getMessage());
                }
            }
            complete(dir, m.get(), StepHook.NONE, key);
        }
    }

    // --- recovery

    /**
     * Decrypts the latest checkpoint's memory image to {@code work} and hands its disks over to the
     * VM that will run from them: the store then marks the VM recovered and takes no more
     * checkpoints of it.
     */
    synchronized Recovery takeForRecovery(String vm, byte[] vmKey, Path work, long newEpoch) {
        checkVm(vm);
        Manifest m = manifest(vm).filter(x -> "BACKUP".equals(x.state())).orElseThrow(
                () -> new CheckpointException(Reason.NOT_FOUND, "no complete checkpoint of " + vm + " here"));
        Path dir = dir(vm);
        try {
            if (!m.pending().isEmpty()) {
                complete(dir, m, StepHook.NONE, vmKey);
                m = manifest(vm).orElseThrow();
                if (!m.pending().isEmpty()) {
                    throw new IOException("disk deltas of " + vm + " could not be committed");
                }
            }
            Files.createDirectories(work);
            Path memory = work.resolve(vm + "-" + m.sequence() + ".mem");
            String[] xml = new String[1];
            try (InputStream in = new BufferedInputStream(Files.newInputStream(dir.resolve(m.checkpoint())), 1 << 16)) {
                CheckpointReader.read(in, vmKey, null, (type, name, length, data) -> {
                    if (type == Section.XML) {
                        xml[0] = new String(data.readAllBytes(), StandardCharsets.UTF_8);
                    } else if (type == Section.MEMORY) {
                        Files.copy(data, memory, StandardCopyOption.REPLACE_EXISTING);
                    }
                });
            }
            // the VM runs from its disks in the store: plain copies of the encrypted bases (QEMU would need a
            // libvirt secret to open them encrypted); one atomic manifest change hands them over
            Map<String, Path> diskFiles = new TreeMap<>();
            Map<String, String> running = new TreeMap<>();
            for (Map.Entry<String, String> d : m.disks().entrySet()) {
                String name = d.getValue();
                if (name.endsWith(LUKS)) {
                    String plain = "run-" + d.getKey() + "-" + m.sequence() + ".qcow2";
                    disks.decrypt(dir.resolve(name), dir.resolve(plain), Sealing.diskPassphrase(vmKey));
                    fsync(dir.resolve(plain));
                    name = plain;
                }
                running.put(d.getKey(), name);
                diskFiles.put(d.getKey(), dir.resolve(name).toAbsolutePath());
            }
            Manifest recovered = new Manifest(vm, m.primary(), m.sequence(), newEpoch, m.takenAtMillis(),
                    m.compression(), m.checkpoint(), running, Map.of(), "RECOVERED");
            writeManifest(dir, recovered);
            clean(dir, recovered);
            return new Recovery(stored(vm, recovered), xml[0], memory, diskFiles);
        } catch (CorruptCheckpointException e) {
            throw new CheckpointException(Reason.REJECTED, "the stored checkpoint of " + vm + " does not verify: "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException(Reason.UNAVAILABLE, "cannot read the checkpoint of " + vm + ": "
                    + e.getMessage(), e);
        }
    }

    /** Decrypts the memory image of a stored checkpoint file into {@code target} (verifying the whole file). */
    private static void memoryImage(Path checkpoint, byte[] vmKey, Path target) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(checkpoint), 1 << 16)) {
            CheckpointReader.read(in, vmKey, null, (type, name, length, data) -> {
                if (type == Section.MEMORY) {
                    Files.copy(data, target, StandardCopyOption.REPLACE_EXISTING);
                }
            });
        }
    }

    private byte[] salt() {
        byte[] s = new byte[16];
        random.nextBytes(s);
        return s;
    }

    /** Forgets a VM (after it was recovered and moved on, or when its protection ended). */
    synchronized void forget(String vm) throws IOException {
        checkVm(vm);
        Path dir = dir(vm);
        if (!Files.isDirectory(dir)) {
            return;
        }
        Optional<Manifest> m = manifest(vm);
        Set<String> keep = new HashSet<>();
        m.filter(x -> "RECOVERED".equals(x.state())).ifPresent(x -> keep.addAll(x.disks().values()));
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                if (!keep.contains(f.getFileName().toString()) && !f.equals(dir)) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    // --- files

    private Path dir(String vm) {
        return root.resolve(vm);
    }

    private static void checkVm(String vm) {
        if (vm == null || !VM.matcher(vm).matches()) {
            throw new CheckpointException(Reason.INVALID, "not a VM name: " + vm);
        }
    }

    private static long size(Path f) {
        try {
            return Files.exists(f) ? Files.size(f) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    static void fsync(Path file) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
            c.force(true);
        } catch (IOException e) {
            // some file systems cannot sync a directory; the rename is still atomic
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the store needs atomic renames: " + e.getMessage(), e);
        }
    }

    private static void deleteAll(List<Path> files) {
        for (Path f : files) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // left for the next start's clean-up
            }
        }
    }
}
