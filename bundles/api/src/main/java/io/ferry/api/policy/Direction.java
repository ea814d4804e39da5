package io.ferry.api.policy;

/** Which way a VM moves, seen from the device that decides. */
public enum Direction {
    /** The VM leaves this device for the target. */
    OUT,
    /** The VM arrives on this device (the target) from the source. */
    IN;

    /** The word used in policy documents and on the console: {@code out} or {@code in}. */
    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
