package io.ferry.checkpoint.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.SecureRandom;

import io.ferry.api.checkpoint.Compression;

/**
 * A memory image alone through the checkpoint format (compressed, sealed, digested) and back:
 * for benchmarks that compare compressions on real images.
 */
public final class CheckpointCodec {

    private CheckpointCodec() {
    }

    /** Writes a checkpoint holding {@code memory}; returns the bytes written. */
    public static long write(Compression compression, byte[] dictionary, InputStream memory, long length,
            byte[] key, OutputStream out) throws IOException {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        Header h = new Header("bench", "bench", 2, -1, 1, System.currentTimeMillis(), compression,
                dictionary == null ? -1 : 1, salt);
        CheckpointWriter w = new CheckpointWriter(out, h, key, dictionary);
        w.section(Section.XML, "", new byte[0]);
        w.section(Section.MEMORY, "", memory, length);
        return w.finish();
    }

    /** The memory delta (see MemoryDelta) that turns {@code previous} into {@code next}; returns its length. */
    public static long memoryDelta(java.nio.file.Path previous, java.nio.file.Path next, java.nio.file.Path out)
            throws IOException {
        return MemoryDelta.encode(previous, next, out);
    }

    /** Rebuilds {@code next} from {@code previous} and a memory delta, verifying it. */
    public static void applyMemoryDelta(java.nio.file.Path previous, InputStream delta, OutputStream next)
            throws IOException {
        MemoryDelta.apply(previous, delta, next, Long.MAX_VALUE);
    }

    /** Reads and verifies such a checkpoint, writing the memory image to {@code memory}. */
    public static void read(InputStream in, byte[] key, byte[] dictionary, OutputStream memory) throws IOException {
        CheckpointReader.read(in, key, s -> dictionary, (type, name, length, data) -> {
            if (type == Section.MEMORY) {
                data.transferTo(memory);
            }
        });
    }
}
