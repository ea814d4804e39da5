package io.ferry.seal.internal;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * One secret's file: a header in clear (magic, KEK generation, the secret's version, its name),
 * a 12-byte nonce, and AES-256-GCM ciphertext whose associated data is the whole header, so
 * that the name, the version and the generation cannot be changed or the file swapped unnoticed.
 */
record Blob(int kekGeneration, long version, String name, byte[] nonce, byte[] ciphertext) {

    static final byte[] MAGIC = "FERRYSB1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Thrown when the bytes are not a blob at all (truncated header, wrong magic). */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message);
        }
    }

    static Blob encrypt(byte[] kek, int generation, long version, String name, byte[] secret) {
        byte[] nonce = new byte[12];
        RANDOM.nextBytes(nonce);
        byte[] header = header(generation, version, name);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(header);
            return new Blob(generation, version, name, nonce, c.doFinal(secret));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available: " + e.getMessage(), e);
        }
    }

    /** @throws AEADBadTagException when the contents or the header were changed */
    byte[] decrypt(byte[] kek) throws AEADBadTagException {
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(header(kekGeneration, version, name));
            return c.doFinal(ciphertext);
        } catch (AEADBadTagException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available: " + e.getMessage(), e);
        }
    }

    static byte[] header(int generation, long version, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(MAGIC.length + 4 + 8 + 2 + n.length).put(MAGIC).putInt(generation).putLong(version)
                .putShort((short) n.length).put(n).array();
    }

    byte[] toBytes() {
        byte[] h = header(kekGeneration, version, name);
        return ByteBuffer.allocate(h.length + nonce.length + ciphertext.length).put(h).put(nonce).put(ciphertext).array();
    }

    static Blob parse(byte[] bytes) throws Malformed {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            byte[] magic = new byte[MAGIC.length];
            b.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new Malformed("it is not a seal-storage blob (bad magic)");
            }
            int gen = b.getInt();
            long version = b.getLong();
            byte[] n = new byte[b.getShort() & 0xffff];
            b.get(n);
            byte[] nonce = new byte[12];
            b.get(nonce);
            if (b.remaining() < 16) {
                throw new Malformed("it is truncated (" + bytes.length + " bytes, no room for the GCM tag)");
            }
            byte[] ct = new byte[b.remaining()];
            b.get(ct);
            return new Blob(gen, version, new String(n, StandardCharsets.UTF_8), nonce, ct);
        } catch (BufferUnderflowException e) {
            throw new Malformed("it is truncated (" + bytes.length + " bytes, the header is incomplete)");
        }
    }
}
