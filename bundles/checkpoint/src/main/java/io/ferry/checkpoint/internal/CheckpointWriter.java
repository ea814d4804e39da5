package io.ferry.checkpoint.internal;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Writes one checkpoint: the header in clear, then the sections, digested, compressed and sealed.
 * Nothing is complete before {@link #finish}: a reader rejects a body without its last chunk.
 */
final class CheckpointWriter {

    private final CountingOutputStream wire;
    private final OutputStream compressor;
    private final Sealing.SealingOutputStream sealer;
    private final MessageDigest digest;
    private final DataOutputStream sections;
    private long rawBytes;

    CheckpointWriter(OutputStream out, Header header, byte[] vmKey, byte[] dictionary) throws IOException {
        this.wire = new CountingOutputStream(out);
        byte[] head = header.encode();
        wire.write(head);
        this.sealer = new Sealing.SealingOutputStream(wire, Sealing.checkpointKey(vmKey, header.salt()),
                Sealing.sha256(head));
        this.compressor = Codecs.compress(header.compression(), sealer, dictionary);
        try {
            this.digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        this.sections = new DataOutputStream(new DigestOutputStream(compressor, digest));
    }

    void section(Section type, String name, byte[] data) throws IOException {
        section(type, name, new java.io.ByteArrayInputStream(data), data.length);
    }

    /** Copies exactly {@code length} bytes of {@code data} into a section. */
    void section(Section type, String name, InputStream data, long length) throws IOException {
        if (type == Section.END) {
            throw new IllegalArgumentException("the end is written by finish()");
        }
        sections.writeByte(type.code);
        sections.writeUTF(name);
        sections.writeLong(length);
        byte[] buffer = new byte[1 << 16];
        long left = length;
        while (left > 0) {
            int n = data.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                throw new IOException("section " + type + " " + name + " ended " + left + " bytes early");
            }
            sections.write(buffer, 0, n);
            left -= n;
        }
        rawBytes += length;
    }

    /** Writes the end section with the digest, the compressor's end and the last chunk; returns the wire bytes. */
    long finish() throws IOException {
        sections.writeByte(Section.END.code); // the digest covers everything up to and including this byte
        sections.flush();
        byte[] sum = digest.digest();
        DataOutputStream end = new DataOutputStream(compressor);
        end.writeUTF("");
        end.writeLong(sum.length);
        end.write(sum);
        end.flush();
        compressor.close();
        sealer.close();
        wire.flush();
        return wire.count();
    }

    long rawBytes() {
        return rawBytes;
    }

    static final class CountingOutputStream extends java.io.FilterOutputStream {
        private long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        long count() {
            return count;
        }
    }
}
