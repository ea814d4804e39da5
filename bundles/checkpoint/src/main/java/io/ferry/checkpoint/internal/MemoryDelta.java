package io.ferry.checkpoint.internal;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * A memory image as the difference to the previous one: rsync's scheme on the image file. The
 * previous image is cut into blocks of 4 KiB (one guest page); the new image is scanned with a
 * rolling checksum and every place that starts like one of the previous blocks, compared byte for
 * byte, becomes a copy of the previous image from there for as long as the two agree (any length,
 * at any offset: a memory image is QEMU's migration stream, whose page records move when an earlier
 * page changes between zero and non-zero). Everything else goes as literal bytes, which the
 * checkpoint's compression then shrinks. The end carries the SHA-256 of the new image, so a
 * reconstruction on a wrong base is always detected.
 *
 * <pre>
 * "FMD1" | block size (int) | new length (long) | op* | 0 | SHA-256 (32)
 * op: 1 | old offset (long) | length (long)     copy from the previous image
 *     2 | length (int) | bytes                  literal
 * </pre>
 *
 * Both images are mapped; each must be under 2 GiB (else the caller sends the image whole).
 */
final class MemoryDelta {

    static final int BLOCK = 4096;
    static final long MAX_IMAGE = Integer.MAX_VALUE;
    private static final byte[] MAGIC = {'F', 'M', 'D', '1'};
    private static final int COPY = 1;
    private static final int DATA = 2;
    private static final int MAX_LITERAL = 1 << 20;

    private MemoryDelta() {
    }

    /** Whether the images are small enough for a delta. */
    static boolean fits(Path previous, Path next) throws IOException {
        return Files.size(previous) < MAX_IMAGE && Files.size(next) < MAX_IMAGE && Files.size(previous) >= BLOCK;
    }

    /** Writes the delta that turns {@code previous} into {@code next} to {@code out}; returns its length. */
    static long encode(Path previous, Path next, Path out) throws IOException {
        try (FileChannel oc = FileChannel.open(previous, StandardOpenOption.READ);
                FileChannel nc = FileChannel.open(next, StandardOpenOption.READ);
                OutputStream file = Files.newOutputStream(out)) {
            MappedByteBuffer old = oc.map(FileChannel.MapMode.READ_ONLY, 0, oc.size());
            MappedByteBuffer neu = nc.map(FileChannel.MapMode.READ_ONLY, 0, nc.size());
            WriterState w = new WriterState(new DataOutputStream(new BufferedOutputStream(file, 1 << 16)));
            w.out.write(MAGIC);
            w.out.writeInt(BLOCK);
            w.out.writeLong(neu.capacity());
            scan(old, neu, w);
            w.out.writeByte(0);
            w.out.write(sha256(neu));
            w.out.flush();
        }
        return Files.size(out);
    }

    private static final class WriterState {
        final DataOutputStream out;
        long copyFrom = -1;
        long copyLength;

        WriterState(DataOutputStream out) {
            this.out = out;
        }

        void copy(long from, long length) throws IOException {
            if (copyFrom >= 0 && copyFrom + copyLength == from) {
                copyLength += length;
                return;
            }
            flushCopy();
            copyFrom = from;
            copyLength = length;
        }

        void flushCopy() throws IOException {
            if (copyFrom >= 0) {
                out.writeByte(COPY);
                out.writeLong(copyFrom);
                out.writeLong(copyLength);
                copyFrom = -1;
            }
        }

        void literal(ByteBuffer neu, int from, int to) throws IOException {
            if (to <= from) {
                return;
            }
            flushCopy();
            byte[] buffer = new byte[Math.min(MAX_LITERAL, to - from)];
            for (int p = from; p < to; p += buffer.length) {
                int n = Math.min(buffer.length, to - p);
                neu.get(p, buffer, 0, n);
                out.writeByte(DATA);
                out.writeInt(n);
                out.write(buffer, 0, n);
            }
        }
    }

    /** Open-addressed table: weak checksum of each whole block of the previous image to its first block index. */
    private static final class Index {
        final int[] keys;
        final int[] blocks;
        final int mask;

        Index(ByteBuffer old) {
            int count = old.capacity() / BLOCK;
            int size = Integer.highestOneBit(Math.max(16, count * 2)) << 1;
            keys = new int[size];
            blocks = new int[size];
            Arrays.fill(blocks, -1);
            mask = size - 1;
            for (int i = 0; i < count; i++) {
                int h = weak(old, i * BLOCK);
                int slot = mix(h) & mask;
                while (blocks[slot] >= 0 && keys[slot] != h) {
                    slot = (slot + 1) & mask;
                }
                if (blocks[slot] < 0) {
                    keys[slot] = h;
                    blocks[slot] = i;
                }
            }
        }

        int find(int h) {
            int slot = mix(h) & mask;
            while (blocks[slot] >= 0) {
                if (keys[slot] == h) {
                    return blocks[slot];
                }
                slot = (slot + 1) & mask;
            }
            return -1;
        }

        private static int mix(int h) {
            h ^= h >>> 16;
            h *= 0x85ebca6b;
            return h ^ (h >>> 13);
        }
    }

    private static int weak(ByteBuffer b, int from) {
        int a = 0;
        int s = 0;
        for (int i = 0; i < BLOCK; i++) {
            int v = b.get(from + i) & 0xff;
            a += v;
            s += (BLOCK - i) * v;
        }
        return (a & 0xffff) | (s << 16);
    }

    private static void scan(ByteBuffer old, ByteBuffer neu, WriterState w) throws IOException {
        Index index = new Index(old);
        int n = neu.capacity();
        int literalFrom = 0;
        int p = 0;
        // first try the same offset in the previous image: most of an image does not move
        while (p + BLOCK <= n) {
            long match = matchLength(old, p, neu, p);
            if (match >= BLOCK) {
                w.literal(neu, literalFrom, p);
                w.copy(p, match);
                p += (int) match;
                literalFrom = p;
                continue;
            }
            // rolling search from p until a block of the previous image starts here
            int a = 0;
            int s = 0;
            for (int i = 0; i < BLOCK; i++) {
                int v = neu.get(p + i) & 0xff;
                a += v;
                s += (BLOCK - i) * v;
            }
            boolean found = false;
            while (true) {
                int h = (a & 0xffff) | (s << 16);
                int block = index.find(h);
                if (block >= 0) {
                    long len = matchLength(old, block * BLOCK, neu, p);
                    if (len >= BLOCK) {
                        w.literal(neu, literalFrom, p);
                        w.copy((long) block * BLOCK, len);
                        p += (int) len;
                        literalFrom = p;
                        found = true;
                        break;
                    }
                }
                if (p + BLOCK >= n) {
                    p = n;
                    break;
                }
                int out = neu.get(p) & 0xff;
                int in = neu.get(p + BLOCK) & 0xff;
                a += in - out;
                s += a - BLOCK * out;
                p++;
            }
            if (!found) {
                break;
            }
        }
        w.literal(neu, literalFrom, n);
        w.flushCopy();
    }

    /** How many bytes agree from {@code o} in the previous image and {@code p} in the new one. */
    private static long matchLength(ByteBuffer old, int o, ByteBuffer neu, int p) {
        int max = Math.min(old.capacity() - o, neu.capacity() - p);
        if (max < BLOCK || o < 0) {
            return 0;
        }
        int m = old.slice(o, max).mismatch(neu.slice(p, max));
        return m < 0 ? max : m;
    }

    /**
     * Rebuilds the new image from {@code previous} and a delta read from {@code delta} into
     * {@code out}, checking every operation's bounds, the length and the SHA-256 at the end.
     */
    static void apply(Path previous, InputStream delta, OutputStream out, long maxLength) throws IOException {
        DataInputStream d = new DataInputStream(delta);
        byte[] magic = d.readNBytes(4);
        if (!Arrays.equals(magic, MAGIC) || d.readInt() != BLOCK) {
            throw new CorruptCheckpointException("not a memory delta");
        }
        long length = d.readLong();
        if (length < 0 || length > maxLength) {
            throw new CorruptCheckpointException("memory delta of a bad length " + length);
        }
        MessageDigest digest = sha();
        long written = 0;
        byte[] buffer = new byte[1 << 16];
        try (FileChannel oc = FileChannel.open(previous, StandardOpenOption.READ)) {
            long oldSize = oc.size();
            while (true) {
                int op = d.readUnsignedByte();
                if (op == 0) {
                    break;
                }
                if (op == COPY) {
                    long from = d.readLong();
                    long n = d.readLong();
                    if (from < 0 || n <= 0 || from + n > oldSize || from + n < 0 || written + n > length) {
                        throw new CorruptCheckpointException("memory delta copies out of bounds");
                    }
                    long left = n;
                    long at = from;
                    while (left > 0) {
                        ByteBuffer b = ByteBuffer.wrap(buffer, 0, (int) Math.min(buffer.length, left));
                        while (b.hasRemaining()) {
                            if (oc.read(b, at + b.position()) < 0) {
                                throw new CorruptCheckpointException("previous memory image shorter than it was");
                            }
                        }
                        int got = b.position();
                        out.write(buffer, 0, got);
                        digest.update(buffer, 0, got);
                        at += got;
                        left -= got;
                    }
                    written += n;
                } else if (op == DATA) {
                    int n = d.readInt();
                    if (n <= 0 || n > MAX_LITERAL || written + n > length) {
                        throw new CorruptCheckpointException("memory delta literal out of bounds");
                    }
                    int left = n;
                    while (left > 0) {
                        int got = d.read(buffer, 0, Math.min(buffer.length, left));
                        if (got < 0) {
                            throw new CorruptCheckpointException("memory delta truncated");
                        }
                        out.write(buffer, 0, got);
                        digest.update(buffer, 0, got);
                        left -= got;
                    }
                    written += n;
                } else {
                    throw new CorruptCheckpointException("memory delta: unknown operation " + op);
                }
            }
        }
        byte[] expected = d.readNBytes(32);
        if (written != length || !MessageDigest.isEqual(expected, digest.digest())) {
            throw new CorruptCheckpointException("memory delta does not rebuild the image (length or SHA-256 differ)");
        }
        if (d.read() >= 0) {
            throw new CorruptCheckpointException("memory delta: bytes after its end");
        }
    }

    private static byte[] sha256(ByteBuffer b) {
        MessageDigest d = sha();
        d.update(b.duplicate().clear());
        return d.digest();
    }

    private static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
