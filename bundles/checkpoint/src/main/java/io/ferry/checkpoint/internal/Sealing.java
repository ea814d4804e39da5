package io.ferry.checkpoint.internal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The encrypted body of a checkpoint: AES-256-GCM in chunks of at most {@value #CHUNK} bytes.
 * The key of one checkpoint is HMAC-SHA256(VM key, label || salt), so a nonce (the chunk index)
 * never repeats under a key. Each chunk's associated data is the header's SHA-256, its index and
 * whether it is the last: a chunk moved, dropped, swapped between checkpoints, or a body cut short
 * (no last chunk) fails authentication. On the wire: a 4-byte length (top bit: last) and the
 * ciphertext with its tag.
 */
final class Sealing {

    static final int CHUNK = 1 << 20;
    private static final int TAG_BITS = 128;
    private static final int LAST = 0x8000_0000;
    private static final byte[] LABEL = "ferry-checkpoint-v1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private Sealing() {
    }

    static SecretKeySpec checkpointKey(byte[] vmKey, byte[] salt) {
        if (vmKey == null || vmKey.length != 32) {
            throw new IllegalArgumentException("a checkpoint key has 32 bytes");
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(vmKey, "HmacSHA256"));
            mac.update(LABEL);
            return new SecretKeySpec(mac.doFinal(salt), "AES");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final byte[] DISK_LABEL = "ferry-checkpoint-disk-at-rest-v1"
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** The passphrase of the backup's encrypted disk bases (qcow2 LUKS): HMAC-SHA256(VM key, label). */
    static byte[] diskPassphrase(byte[] vmKey) {
        if (vmKey == null || vmKey.length != 32) {
            throw new IllegalArgumentException("a checkpoint key has 32 bytes");
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(vmKey, "HmacSHA256"));
            return mac.doFinal(DISK_LABEL);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] aad(byte[] headerDigest, long index, boolean last) {
        return ByteBuffer.allocate(headerDigest.length + 9).put(headerDigest).putLong(index).put((byte) (last ? 1 : 0))
                .array();
    }

    private static Cipher cipher(int mode, SecretKeySpec key, long index) throws GeneralSecurityException {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        byte[] iv = ByteBuffer.allocate(12).putInt(0).putLong(index).array();
        c.init(mode, key, new GCMParameterSpec(TAG_BITS, iv));
        return c;
    }

    /** Encrypts what is written into chunks; {@link #close} writes the last chunk (and not the stream below). */
    static final class SealingOutputStream extends OutputStream {
        private final DataOutputStream out;
        private final SecretKeySpec key;
        private final byte[] headerDigest;
        private final byte[] buffer = new byte[CHUNK];
        private int filled;
        private long index;
        private boolean closed;

        SealingOutputStream(OutputStream out, SecretKeySpec key, byte[] headerDigest) {
            this.out = new DataOutputStream(out);
            this.key = key;
            this.headerDigest = headerDigest;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int n = Math.min(len, CHUNK - filled);
                System.arraycopy(b, off, buffer, filled, n);
                filled += n;
                off += n;
                len -= n;
                if (filled == CHUNK) {
                    emit(false);
                }
            }
        }

        private void emit(boolean last) throws IOException {
            try {
                Cipher c = cipher(Cipher.ENCRYPT_MODE, key, index);
                c.updateAAD(aad(headerDigest, index, last));
                byte[] sealed = c.doFinal(buffer, 0, filled);
                out.writeInt(sealed.length | (last ? LAST : 0));
                out.write(sealed);
                index++;
                filled = 0;
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot encrypt a checkpoint chunk", e);
            }
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            if (!closed) {
                closed = true;
                emit(true);
                out.flush();
            }
        }
    }

    /** Reads a body's frames without decrypting them, up to and including the last: for storing it as it came. */
    static long copyFrames(InputStream in, OutputStream out, long maxBytes) throws IOException {
        DataInputStream d = new DataInputStream(in);
        DataOutputStream o = new DataOutputStream(out);
        byte[] buffer = new byte[CHUNK + 16];
        long total = 0;
        while (true) {
            int word;
            try {
                word = d.readInt();
            } catch (EOFException e) {
                throw new CorruptCheckpointException("truncated: the stream ended before the last chunk");
            }
            int length = word & ~LAST;
            if (length < 16 || length > CHUNK + 16) {
                throw new CorruptCheckpointException("bad chunk length " + length);
            }
            total += 4 + length;
            if (total > maxBytes) {
                throw new CorruptCheckpointException("larger than the limit of " + maxBytes + " bytes");
            }
            try {
                d.readFully(buffer, 0, length);
            } catch (EOFException e) {
                throw new CorruptCheckpointException("truncated inside a chunk");
            }
            o.writeInt(word);
            o.write(buffer, 0, length);
            if ((word & LAST) != 0) {
                o.flush();
                return total;
            }
        }
    }

    /** Decrypts and authenticates chunks; end of stream only after an authentic last chunk. */
    static final class OpeningInputStream extends InputStream {
        private final DataInputStream in;
        private final SecretKeySpec key;
        private final byte[] headerDigest;
        private final byte[] frame = new byte[CHUNK + 16];
        private byte[] plain = new byte[0];
        private int position;
        private long index;
        private boolean ended;

        OpeningInputStream(InputStream in, SecretKeySpec key, byte[] headerDigest) {
            this.in = new DataInputStream(in);
            this.key = key;
            this.headerDigest = headerDigest;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            while (position == plain.length) {
                if (ended) {
                    return -1;
                }
                next();
            }
            int n = Math.min(len, plain.length - position);
            System.arraycopy(plain, position, b, off, n);
            position += n;
            return n;
        }

        boolean ended() {
            return ended && position == plain.length;
        }

        private void next() throws IOException {
            int word;
            try {
                word = in.readInt();
            } catch (EOFException e) {
                throw new CorruptCheckpointException("truncated: the stream ended before the last chunk");
            }
            boolean last = (word & LAST) != 0;
            int length = word & ~LAST;
            if (length < 16 || length > CHUNK + 16) {
                throw new CorruptCheckpointException("bad chunk length " + length);
            }
            try {
                in.readFully(frame, 0, length);
            } catch (EOFException e) {
                throw new CorruptCheckpointException("truncated inside chunk " + index);
            }
            try {
                Cipher c = cipher(Cipher.DECRYPT_MODE, key, index);
                c.updateAAD(aad(headerDigest, index, last));
                plain = c.doFinal(frame, 0, length);
            } catch (GeneralSecurityException e) {
                throw new CorruptCheckpointException("chunk " + index + " fails authentication (corrupt, reordered, "
                        + "from another checkpoint or under another key)");
            }
            position = 0;
            index++;
            ended = last;
        }
    }
}
