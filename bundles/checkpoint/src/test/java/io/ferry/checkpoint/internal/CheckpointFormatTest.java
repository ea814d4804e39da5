package io.ferry.checkpoint.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.ferry.api.checkpoint.Compression;

class CheckpointFormatTest {

    static final byte[] KEY = new byte[32];
    static {
        new SecureRandom().nextBytes(KEY);
    }

    /** A memory-like image: zero pages, repeated pages and random pages. */
    static byte[] memory(long seed, int pages) {
        Random r = new Random(seed);
        byte[] m = new byte[pages * 4096];
        for (int p = 0; p < pages; p++) {
            int kind = p % 4;
            if (kind == 1) {
                Arrays.fill(m, p * 4096, (p + 1) * 4096, (byte) (p % 7));
            } else if (kind == 2) {
                byte[] page = new byte[4096];
                r.nextBytes(page);
                System.arraycopy(page, 0, m, p * 4096, 4096);
            }
        }
        return m;
    }

    static Header header(long seq, long base, Compression c, long dict) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        return new Header("vm1", "laptop", seq, base, 1, System.currentTimeMillis(), c, dict, salt);
    }

    static byte[] write(Header h, byte[] key, byte[] dictionary, Map<String, byte[]> disks, byte[] memory)
            throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CheckpointWriter w = new CheckpointWriter(out, h, key, dictionary);
        w.section(Section.XML, "", "<domain><name>vm1</name></domain>".getBytes(StandardCharsets.UTF_8));
        w.section(Section.MEMORY, "", memory);
        for (Map.Entry<String, byte[]> d : disks.entrySet()) {
            w.section(h.baseSequence() >= 0 ? Section.DISK_DELTA : Section.DISK_FULL, d.getKey(), d.getValue());
        }
        long n = w.finish();
        assertThat(n).isEqualTo(out.size());
        return out.toByteArray();
    }

    static Map<String, byte[]> read(byte[] wire, byte[] key, byte[] dictionary) throws IOException {
        Map<String, byte[]> sections = new LinkedHashMap<>();
        CheckpointReader.read(new ByteArrayInputStream(wire), key, s -> dictionary,
                (type, name, length, data) -> sections.put(type + ":" + name, data.readAllBytes()));
        return sections;
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void roundTripsAndCompresses(Compression c) throws IOException {
        byte[] memory = memory(1, 2000);
        byte[] wire = write(header(1, -1, c, -1), KEY, null, Map.of("vda", memory(2, 10)), memory);
        Map<String, byte[]> back = read(wire, KEY, null);
        assertThat(back.keySet()).containsExactly("XML:", "MEMORY:", "DISK_FULL:vda");
        assertThat(back.get("MEMORY:")).isEqualTo(memory);
        assertThat(back.get("DISK_FULL:vda")).isEqualTo(memory(2, 10));
        if (c != Compression.NONE) {
            assertThat(wire.length).isLessThan(memory.length * 6 / 10);
        }
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void everyCorruptedByteIsRejected(Compression c) throws IOException {
        byte[] wire = write(header(1, -1, c, -1), KEY, null, Map.of("vda", memory(2, 300)), memory(1, 600));
        Random r = new Random(42);
        for (int i = 0; i < 60; i++) {
            byte[] bad = wire.clone();
            int at = r.nextInt(bad.length);
            bad[at] ^= (byte) (1 + r.nextInt(255));
            assertThatThrownBy(() -> read(bad, KEY, null)).as("byte %d flipped", at)
                    .isInstanceOf(CorruptCheckpointException.class);
        }
    }

    @Test
    void everyTruncationIsRejected() throws IOException {
        byte[] wire = write(header(1, -1, Compression.ZSTD, -1), KEY, null, Map.of(), memory(1, 700));
        for (int cut : new int[] {0, 5, 20, 60, wire.length / 3, wire.length / 2, wire.length - 17, wire.length - 1}) {
            byte[] part = Arrays.copyOf(wire, cut);
            assertThatThrownBy(() -> read(part, KEY, null)).as("cut at %d", cut).isInstanceOf(IOException.class);
        }
    }

    @Test
    void aWrongKeyOrAForeignHeaderIsRejected() throws IOException {
        Header h = header(5, -1, Compression.LZ4, -1);
        byte[] wire = write(h, KEY, null, Map.of(), memory(1, 300));
        byte[] other = KEY.clone();
        other[0] ^= 1;
        assertThatThrownBy(() -> read(wire, other, null)).isInstanceOf(CorruptCheckpointException.class)
                .hasMessageContaining("authentication");
        // the same body under a header that claims another sequence (a replay in disguise)
        Header forged = new Header(h.vm(), h.primary(), 6, h.baseSequence(), h.epoch(), h.takenAtMillis(),
                h.compression(), h.dictionarySequence(), h.salt());
        byte[] head = h.encode();
        byte[] swapped = concat(forged.encode(), Arrays.copyOfRange(wire, head.length, wire.length));
        assertThatThrownBy(() -> read(swapped, KEY, null)).isInstanceOf(CorruptCheckpointException.class);
    }

    @Test
    void chunksFromAnotherCheckpointOrReorderedAreRejected() throws IOException {
        byte[] big = memory(7, 700); // more than two chunks of 1 MiB, stored uncompressed
        byte[] a = write(header(1, -1, Compression.NONE, -1), KEY, null, Map.of(), big);
        int head = header(1, -1, Compression.NONE, -1).encode().length;
        int frame = 4 + Sealing.CHUNK + 16;
        // swap the first two chunks
        byte[] swapped = a.clone();
        System.arraycopy(a, head + frame, swapped, head, frame);
        System.arraycopy(a, head, swapped, head + frame, frame);
        assertThatThrownBy(() -> read(swapped, KEY, null)).isInstanceOf(CorruptCheckpointException.class);
        // drop the second chunk
        byte[] dropped = concat(Arrays.copyOfRange(a, 0, head + frame), Arrays.copyOfRange(a, head + 2 * frame, a.length));
        assertThatThrownBy(() -> read(dropped, KEY, null)).isInstanceOf(CorruptCheckpointException.class);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
