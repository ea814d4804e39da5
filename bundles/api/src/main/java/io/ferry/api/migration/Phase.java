package io.ferry.api.migration;

/** Where a migration stands, in the order the source goes through them. */
public enum Phase {
    /** The source's policy decides whether the VM may leave for that target at all. */
    POLICY,
    /** The control channel to the target agent opens (mutual TLS 1.3). */
    CHANNEL,
    /** Both agents have the other attested by the IT center, bound to the channel. */
    ATTESTATION,
    /** The VM's run-time integrity is checked (hypervisor protection). */
    PROTECTION,
    /** The VM's signed policy and a single-use session go to the target, which decides and accepts. */
    HANDOVER,
    /** libvirt's live migration runs, its whole state inside agent channels. */
    TRANSFER,
    /** The target confirms the VM runs there. */
    CONFIRMATION,
    /** The source removes its copy. */
    CLEANUP,
    /** Finished (see the outcome for how). */
    DONE;

    /** Lower-case word for the console. */
    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
