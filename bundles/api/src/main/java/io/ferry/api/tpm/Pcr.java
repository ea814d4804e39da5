package io.ferry.api.tpm;

import java.util.HexFormat;

/** A PCR of the SHA-256 bank and its value. */
public record Pcr(int index, byte[] value) {

    public Pcr {
        value = value.clone();
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    public String hex() {
        return HexFormat.of().formatHex(value);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Pcr p && p.index == index && java.util.Arrays.equals(p.value, value);
    }

    @Override
    public int hashCode() {
        return 31 * index + java.util.Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "PCR " + index + " = " + hex();
    }
}
