package io.ferry.api.protection;

import java.time.Instant;
import java.util.Objects;

/**
 * An unexpected change that hypervisor protection found.
 *
 * @param seq    its number, increasing, per provider instance
 * @param time   when it was found
 * @param kind   what changed
 * @param host   the Ferry host, or null for a host component of the agent's own machine
 * @param domain the domain, or null for a host component
 * @param detail what changed, e.g. the region and both digests
 * @param action what was done about it
 */
public record ProtectionAlert(long seq, Instant time, Kind kind, String host, String domain, String detail,
        String action) {

    /** What changed. */
    public enum Kind {
        /** A protected region of a running domain. */
        MEMORY_CHANGED,
        /** A host hypervisor component (QEMU, libvirtd) no longer matches its measurement. */
        COMPONENT_CHANGED
    }

    public ProtectionAlert {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(action, "action");
    }
}
