package io.ferry.checkpoint.internal;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * Reads and verifies one checkpoint body: every chunk authentic and in order, the last one
 * present, the compressed stream ending exactly there, and the SHA-256 of the sections equal to
 * the one in the end section. A sink receives each section as it goes; only a normal return of
 * {@link #read} means the checkpoint is complete.
 */
final class CheckpointReader {

    /** Receives the sections; must read {@code data} to its end (or throw). */
    @FunctionalInterface
    interface Sink {
        void section(Section type, String name, long length, InputStream data) throws IOException;
    }

    static final long MAX_SECTION = 1L << 40;

    private CheckpointReader() {
    }

    /** Reads a whole checkpoint (header included) from {@code in}. */
    static Header read(InputStream in, byte[] vmKey, java.util.function.LongFunction<byte[]> dictionaries, Sink sink)
            throws IOException {
        Header header = Header.read(in);
        readBody(in, header, vmKey, dictionaries, sink);
        return header;
    }

    static void readBody(InputStream in, Header header, byte[] vmKey,
            java.util.function.LongFunction<byte[]> dictionaries, Sink sink) throws IOException {
        Sealing.OpeningInputStream opened = new Sealing.OpeningInputStream(in,
                Sealing.checkpointKey(vmKey, header.salt()), Sealing.sha256(header.encode()));
        byte[] dictionary = null;
        if (header.dictionarySequence() >= 0) {
            dictionary = dictionaries == null ? null : dictionaries.apply(header.dictionarySequence());
            if (dictionary == null) {
                throw new CorruptCheckpointException("needs the memory image of checkpoint "
                        + header.dictionarySequence() + " as its dictionary, which is not here");
            }
        }
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        InputStream plain;
        try {
            plain = Codecs.decompress(header.compression(), opened, dictionary);
        } catch (IOException e) {
            throw new CorruptCheckpointException("cannot decompress: " + e.getMessage(), e);
        }
        DigestInputStream digested = new DigestInputStream(plain, digest);
        DataInputStream d = new DataInputStream(digested);
        try {
            while (true) {
                int code;
                try {
                    code = d.readUnsignedByte();
                } catch (EOFException e) {
                    throw new CorruptCheckpointException("truncated: no end section");
                }
                Section type = Section.of(code);
                if (type == Section.END) {
                    digested.on(false);
                    byte[] expected = digest.digest();
                    d.readUTF();
                    long length = d.readLong();
                    if (length != 32) {
                        throw new CorruptCheckpointException("bad end section");
                    }
                    byte[] sum = d.readNBytes(32);
                    if (!MessageDigest.isEqual(expected, sum)) {
                        throw new CorruptCheckpointException("digest mismatch");
                    }
                    if (plain.read() != -1) {
                        throw new CorruptCheckpointException("data after the end section");
                    }
                    while (opened.read() != -1) {
                        throw new CorruptCheckpointException("data after the compressed body");
                    }
                    if (!opened.ended()) {
                        throw new CorruptCheckpointException("truncated: no last chunk");
                    }
                    return;
                }
                String name = d.readUTF();
                long length = d.readLong();
                if (length < 0 || length > MAX_SECTION) {
                    throw new CorruptCheckpointException("bad section length " + length);
                }
                BoundedInputStream data = new BoundedInputStream(d, length);
                sink.section(type, name, length, data);
                if (data.remaining() != 0) {
                    data.skipRest();
                }
            }
        } catch (CorruptCheckpointException e) {
            throw e;
        } catch (EOFException e) {
            throw new CorruptCheckpointException("truncated section", e);
        } catch (IOException e) {
            if (e.getCause() instanceof CorruptCheckpointException c) {
                throw c;
            }
            if (isDecompressionError(e)) {
                throw new CorruptCheckpointException("cannot decompress: " + e.getMessage(), e);
            }
            throw e;
        }
    }

    private static boolean isDecompressionError(IOException e) {
        String type = e.getClass().getName();
        return type.startsWith("com.github.luben") || type.startsWith("java.util.zip") || type.startsWith("net.jpountz")
                || (e.getMessage() != null && (e.getMessage().contains("Corrupt") || e.getMessage().contains("zstd")));
    }

    /** A section's bytes: exactly {@code length} of them. */
    static final class BoundedInputStream extends InputStream {
        private final InputStream in;
        private long remaining;

        BoundedInputStream(InputStream in, long length) {
            this.in = in;
            this.remaining = length;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining == 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, remaining));
            if (n < 0) {
                throw new CorruptCheckpointException("truncated: a section ended " + remaining + " bytes early");
            }
            remaining -= n;
            return n;
        }

        long remaining() {
            return remaining;
        }

        void skipRest() throws IOException {
            byte[] buffer = new byte[1 << 16];
            while (read(buffer, 0, buffer.length) >= 0) {
                // drain: the digest covers it
            }
        }

        byte[] readAllChecked() throws IOException {
            byte[] all = readAllBytes();
            return Arrays.copyOf(all, all.length);
        }
    }
}
