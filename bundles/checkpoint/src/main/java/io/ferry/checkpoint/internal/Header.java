package io.ferry.checkpoint.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import io.ferry.api.checkpoint.Compression;

/**
 * The clear-text head of a checkpoint: what it is, for which VM, in which order. It is not secret
 * but it is authenticated: every encrypted chunk binds its SHA-256.
 *
 * @param vm                 the domain
 * @param primary            the agent that took it
 * @param sequence           its number (1, 2, ...)
 * @param baseSequence       the checkpoint its disk deltas apply on, or -1 when its disks are full images
 * @param epoch              the primary's lease epoch
 * @param takenAtMillis      when the VM was frozen (epoch milliseconds)
 * @param compression        of the body
 * @param dictionarySequence the checkpoint whose memory image is the zstd dictionary of this one, or -1
 * @param salt               16 random bytes: the per-checkpoint key is derived from the VM key and it
 */
record Header(String vm, String primary, long sequence, long baseSequence, long epoch, long takenAtMillis,
        Compression compression, long dictionarySequence, byte[] salt) {

    static final byte[] MAGIC = "FERRYCK1".getBytes(StandardCharsets.US_ASCII);
    static final int MAX_HEADER = 4096;

    /** Magic, length and fields, exactly as on the wire. */
    byte[] encode() {
        try {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            DataOutputStream d = new DataOutputStream(body);
            d.writeUTF(vm);
            d.writeUTF(primary);
            d.writeLong(sequence);
            d.writeLong(baseSequence);
            d.writeLong(epoch);
            d.writeLong(takenAtMillis);
            d.writeUTF(compression.name());
            d.writeLong(dictionarySequence);
            d.write(salt);
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            DataOutputStream a = new DataOutputStream(all);
            a.write(MAGIC);
            a.writeShort(body.size());
            body.writeTo(a);
            return all.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    void writeTo(OutputStream out) throws IOException {
        out.write(encode());
    }

    /** Reads magic and header; the stream is then at the first chunk. */
    static Header read(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        byte[] magic = new byte[MAGIC.length];
        d.readFully(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new CorruptCheckpointException("not a Ferry checkpoint (bad magic)");
        }
        int length = d.readUnsignedShort();
        if (length > MAX_HEADER) {
            throw new CorruptCheckpointException("header too long: " + length);
        }
        byte[] body = new byte[length];
        d.readFully(body);
        DataInputStream h = new DataInputStream(new java.io.ByteArrayInputStream(body));
        try {
            Header header = new Header(h.readUTF(), h.readUTF(), h.readLong(), h.readLong(), h.readLong(), h.readLong(),
                    Compression.valueOf(h.readUTF()), h.readLong(), h.readNBytes(16));
            if (header.salt().length != 16 || h.available() != 0 || header.sequence() < 1
                    || header.baseSequence() >= header.sequence() || header.dictionarySequence() >= header.sequence()) {
                throw new CorruptCheckpointException("malformed header");
            }
            return header;
        } catch (IOException | IllegalArgumentException e) {
            throw new CorruptCheckpointException("malformed header: " + e.getMessage());
        }
    }

    boolean incremental() {
        return baseSequence >= 0 || dictionarySequence >= 0;
    }
}
