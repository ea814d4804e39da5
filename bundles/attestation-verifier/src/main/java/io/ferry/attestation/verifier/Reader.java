package io.ferry.attestation.verifier;

import java.util.Arrays;

/** A strict big-endian reader of TPM structures: every read is bounds-checked and names what it read. */
final class Reader {

    private final String structure;
    private final byte[] b;
    private int pos;

    Reader(String structure, byte[] bytes) {
        this.structure = structure;
        this.b = bytes;
    }

    private void need(String field, int n) {
        if (n < 0 || b.length - pos < n) {
            throw new MalformedEvidenceException(structure + " is truncated: " + field + " needs " + n
                    + " bytes at offset " + pos + ", only " + (b.length - pos) + " left");
        }
    }

    int u8(String field) {
        need(field, 1);
        return b[pos++] & 0xff;
    }

    int u16(String field) {
        need(field, 2);
        int v = (b[pos] & 0xff) << 8 | (b[pos + 1] & 0xff);
        pos += 2;
        return v;
    }

    long u32(String field) {
        need(field, 4);
        long v = ((long) (b[pos] & 0xff) << 24) | (b[pos + 1] & 0xff) << 16 | (b[pos + 2] & 0xff) << 8
                | (b[pos + 3] & 0xff);
        pos += 4;
        return v;
    }

    long u64(String field) {
        long hi = u32(field);
        long lo = u32(field);
        return hi << 32 | lo;
    }

    byte[] bytes(String field, int n) {
        need(field, n);
        byte[] out = Arrays.copyOfRange(b, pos, pos + n);
        pos += n;
        return out;
    }

    /** A TPM2B: a 2-byte size, then at most {@code max} bytes. */
    byte[] tpm2b(String field, int max) {
        int size = u16(field + " size");
        if (size > max) {
            throw new MalformedEvidenceException(structure + ": " + field + " has " + size + " bytes, more than "
                    + max + " (offset " + (pos - 2) + ")");
        }
        return bytes(field, size);
    }

    void end() {
        if (pos != b.length) {
            throw new MalformedEvidenceException(structure + " has " + (b.length - pos)
                    + " trailing bytes after offset " + pos);
        }
    }

    MalformedEvidenceException bad(String message) {
        return new MalformedEvidenceException(structure + ": " + message);
    }
}
