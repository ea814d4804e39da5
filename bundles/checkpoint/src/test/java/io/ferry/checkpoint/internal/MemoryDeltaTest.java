package io.ferry.checkpoint.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory deltas on images shaped like QEMU's migration stream: page records of an 8-byte header and
 * 4 KiB of data, zero pages as 9-byte records, so a page that changes between zero and non-zero moves
 * every record after it.
 */
class MemoryDeltaTest {

    @TempDir
    Path tmp;

    /** A stream of {@code pages} records; {@code kinds[p]}: 0 zero page, otherwise the seed of its content. */
    static byte[] stream(int[] kinds) {
        ByteBuffer b = ByteBuffer.allocate(kinds.length * (8 + 4096) + 64);
        b.put("QEVM-like".getBytes());
        for (int p = 0; p < kinds.length; p++) {
            b.putLong(((long) p << 12) | (kinds[p] == 0 ? 2 : 8));
            if (kinds[p] == 0) {
                b.put((byte) 0);
            } else {
                byte[] page = new byte[4096];
                new Random(kinds[p]).nextBytes(page);
                b.put(page);
            }
        }
        return Arrays.copyOf(b.array(), b.position());
    }

    private byte[] roundTrip(byte[] previous, byte[] next, long[] size) throws Exception {
        Path a = Files.write(tmp.resolve("a"), previous);
        Path b = Files.write(tmp.resolve("b"), next);
        Path d = tmp.resolve("d");
        size[0] = MemoryDelta.encode(a, b, d);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        MemoryDelta.apply(a, Files.newInputStream(d), out, 1L << 30);
        return out.toByteArray();
    }

    @Test
    void rebuildsTheImageAndSendsLittleMoreThanWhatChangedEvenWhenRecordsMove() throws Exception {
        Random r = new Random(7);
        int[] kinds = new int[2000];
        for (int p = 0; p < kinds.length; p++) {
            kinds[p] = r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(1_000_000);
        }
        byte[] previous = stream(kinds);
        int[] changed = kinds.clone();
        for (int i = 0; i < 40; i++) { // 2 % of the pages: rewritten, zeroed or filled
            int p = r.nextInt(changed.length);
            changed[p] = changed[p] == 0 ? 1 + r.nextInt(1_000_000) : (i % 2 == 0 ? 0 : 1 + r.nextInt(1_000_000));
        }
        byte[] next = stream(changed);
        long[] size = new long[1];
        assertThat(roundTrip(previous, next, size)).isEqualTo(next);
        System.out.printf("memory delta: %d of %d bytes (%.3f)%n", size[0], next.length, size[0] / (double) next.length);
        assertThat(size[0]).isLessThan(next.length / 10);

        // unrelated images still round-trip (all literal)
        byte[] other = stream(new int[] {5, 0, 9, 11});
        assertThat(roundTrip(previous, other, size)).isEqualTo(other);
        assertThat(roundTrip(previous, previous, size)).isEqualTo(previous);
        assertThat(size[0]).isLessThan(100);
        assertThat(roundTrip(previous, new byte[0], size)).isEmpty();
    }

    @Test
    void aWrongBaseACorruptOrATruncatedDeltaIsRejected() throws Exception {
        int[] kinds = new int[300];
        Arrays.setAll(kinds, p -> p % 5 == 0 ? 0 : p + 1);
        byte[] previous = stream(kinds);
        kinds[100] = 4242;
        byte[] next = stream(kinds);
        Path a = Files.write(tmp.resolve("a"), previous);
        Path b = Files.write(tmp.resolve("b"), next);
        Path d = tmp.resolve("d");
        MemoryDelta.encode(a, b, d);
        byte[] delta = Files.readAllBytes(d);

        byte[] wrongBase = previous.clone();
        wrongBase[5000] ^= 1;
        Path w = Files.write(tmp.resolve("w"), wrongBase);
        assertThatThrownBy(() -> MemoryDelta.apply(w, new ByteArrayInputStream(delta), new ByteArrayOutputStream(),
                1L << 30)).isInstanceOf(CorruptCheckpointException.class);
        Path shortBase = Files.write(tmp.resolve("s"), Arrays.copyOf(previous, previous.length / 2));
        assertThatThrownBy(() -> MemoryDelta.apply(shortBase, new ByteArrayInputStream(delta),
                new ByteArrayOutputStream(), 1L << 30)).isInstanceOf(CorruptCheckpointException.class);
        for (int i = 4; i < delta.length; i += Math.max(1, delta.length / 97)) {
            byte[] flipped = delta.clone();
            flipped[i] ^= 0x10;
            assertThatThrownBy(() -> MemoryDelta.apply(a, new ByteArrayInputStream(flipped),
                    new ByteArrayOutputStream(), 1L << 30)).as("flip at %d", i).isInstanceOf(java.io.IOException.class);
        }
        assertThatThrownBy(() -> MemoryDelta.apply(a, new ByteArrayInputStream(Arrays.copyOf(delta, delta.length - 1)),
                new ByteArrayOutputStream(), 1L << 30)).isInstanceOf(java.io.IOException.class);
        assertThatThrownBy(() -> MemoryDelta.apply(a, new ByteArrayInputStream(delta), new ByteArrayOutputStream(),
                next.length - 1)).isInstanceOf(CorruptCheckpointException.class);
    }
}
