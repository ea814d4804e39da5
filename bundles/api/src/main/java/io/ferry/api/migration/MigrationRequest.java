package io.ferry.api.migration;

import java.time.Duration;
import java.util.Objects;

import io.ferry.api.channel.AgentAddress;

/**
 * The owner's request to move a VM to another agent.
 *
 * @param vm          the domain name on the source host
 * @param host        the Ferry host name of the source hypervisor, or null for the agent's default
 * @param target      the target agent
 * @param user        who asks (the policy decides for this user)
 * @param maxDowntime the longest guest pause at switch-over, or null for the agent's default
 * @param timeout     abort when not confirmed by then, or null for the agent's default
 */
public record MigrationRequest(String vm, String host, AgentAddress target, String user, Duration maxDowntime,
        Duration timeout) {

    public MigrationRequest {
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(user, "user");
        if (vm.isBlank() || user.isBlank()) {
            throw new IllegalArgumentException("a migration needs a VM and a user");
        }
    }

    public static MigrationRequest of(String vm, AgentAddress target, String user) {
        return new MigrationRequest(vm, null, target, user, null, null);
    }
}
