package io.ferry.api.tpm;

import java.nio.ByteBuffer;

/**
 * A key or sealed object created under the storage root key, as the TPM returns it: loadable
 * again on the same TPM only.
 *
 * @param publicArea the marshalled TPMT_PUBLIC
 * @param privateArea the TPM-encrypted private part (the buffer of a TPM2B_PRIVATE)
 */
public record KeyBlob(byte[] publicArea, byte[] privateArea) {

    public KeyBlob {
        publicArea = publicArea.clone();
        privateArea = privateArea.clone();
    }

    @Override
    public byte[] publicArea() {
        return publicArea.clone();
    }

    @Override
    public byte[] privateArea() {
        return privateArea.clone();
    }

    /** Both parts, each with a 4-byte length, for storing in a file. */
    public byte[] toBytes() {
        return ByteBuffer.allocate(8 + publicArea.length + privateArea.length)
                .putInt(publicArea.length).put(publicArea).putInt(privateArea.length).put(privateArea).array();
    }

    /** The inverse of {@link #toBytes()}. @throws IllegalArgumentException if the bytes are not one */
    public static KeyBlob fromBytes(byte[] bytes) {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            byte[] pub = new byte[b.getInt()];
            b.get(pub);
            byte[] priv = new byte[b.getInt()];
            b.get(priv);
            if (b.hasRemaining()) {
                throw new IllegalArgumentException("trailing bytes after the key blob");
            }
            return new KeyBlob(pub, priv);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a key blob: " + e.getMessage(), e);
        }
    }
}
