package io.ferry.api.policy;

import java.time.Instant;
import java.util.Objects;

/**
 * May {@code user} migrate {@code vm} from {@code source} to {@code target} now?
 *
 * @param direction OUT when the deciding device is the source, IN when it is the target
 * @param vm        the VM's UUID or name
 * @param user      who asks for the migration
 * @param source    the device the VM leaves (its level matters for IN); may be null for OUT
 * @param target    the device the VM goes to
 * @param time      the time to decide at (normally now)
 */
public record DecisionRequest(Direction direction, String vm, String user, Device source, Device target,
        Instant time) {

    public DecisionRequest {
        Objects.requireNonNull(direction, "direction");
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(time, "time");
    }
}
