package io.ferry.api.tpm;

/**
 * A monotonic TPM NV counter.
 *
 * @param index the NV index, e.g. {@code 0x01800100}
 * @param name its TPM name (what PolicyNV binds to)
 * @param value its current value
 */
public record NvCounter(int index, byte[] name, long value) {

    public NvCounter {
        name = name.clone();
    }

    @Override
    public byte[] name() {
        return name.clone();
    }
}
