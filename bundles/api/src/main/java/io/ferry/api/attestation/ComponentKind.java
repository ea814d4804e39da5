package io.ferry.api.attestation;

/** What a measured component is. */
public enum ComponentKind {
    /** An executable file of the hypervisor, e.g. the QEMU or libvirtd binary: SHA-256 of the file. */
    BINARY,
    /**
     * An OSGi bundle of the agent: SHA-256 of its content as the framework holds it (see the verifier's
     * {@code BundleDigest}), so that a bundle updated from a stream is measured as what will run.
     */
    BUNDLE;

    /** The lower-case name used in the log and on the wire. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The inverse of {@link #label()}. @throws IllegalArgumentException for anything else */
    public static ComponentKind ofLabel(String label) {
        for (ComponentKind k : values()) {
            if (k.label().equals(label)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown component kind '" + Checks.printable(label) + "' (binary or bundle)");
    }
}
