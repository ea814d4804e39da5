package io.ferry.api.policy;

import java.util.Objects;
import java.util.Set;

/**
 * A device as the decision sees it.
 *
 * @param name   the agent's device name
 * @param groups the device groups it is known to belong to (from the IT center's registry); the
 *               policy's own {@code device-groups} are added by the decision
 * @param level  its security level from its latest attestation, or null when unknown (which
 *               reaches no minimum)
 */
public record Device(String name, Set<String> groups, String level) {

    public Device {
        Objects.requireNonNull(name, "name");
        groups = groups == null ? Set.of() : Set.copyOf(groups);
    }

    public static Device of(String name, String level) {
        return new Device(name, Set.of(), level);
    }
}
