package io.ferry.api.hypervisor;

import java.util.Objects;

/**
 * What a host knows about one of its domains at one moment.
 *
 * @param name        the domain name, unique on the host
 * @param uuid        the domain UUID, unique everywhere
 * @param state       the current state
 * @param memoryKiB   memory in use, in KiB
 * @param vcpus       number of virtual CPUs
 * @param cpuTimeNanos CPU time used since start, in nanoseconds
 * @param persistent  whether the domain stays defined when it stops
 */
public record DomainSummary(String name, String uuid, DomainState state, long memoryKiB, int vcpus,
        long cpuTimeNanos, boolean persistent) {

    public DomainSummary {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(state, "state");
    }
}
