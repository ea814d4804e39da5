package io.ferry.api.policy;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One rule of a policy. It matches a request when the direction is one of its directions, the
 * user is one of its users or holds one of its roles, the target device is one of its devices or
 * in one of its groups, and the request's time lies in its validity. An allow rule also needs the
 * target's (and, for {@link Direction#IN}, the source's) security level to reach its minimum.
 *
 * @param id             unique within the policy, named in every decision it makes
 * @param effect         allow or deny; a matching deny rule wins over every allow rule
 * @param directions     OUT, IN or both
 * @param users          user names; {@code *} is any user
 * @param roles          role names of the policy; {@code owner} is the policy's owner
 * @param devices        target device names; {@code *} is any device
 * @param groups         target device groups (of the policy, or named in the request)
 * @param minTargetLevel the lowest security level of the target, or null for none (allow rules only)
 * @param minSourceLevel the lowest security level of the source, or null (allow rules for IN only)
 * @param validity       when the rule applies
 * @param description    free text for people, or null
 * @param line           the rule's line in the policy document (1-based), or 0 when unknown
 */
public record Rule(String id, Effect effect, Set<Direction> directions, List<String> users, List<String> roles,
        List<String> devices, List<String> groups, String minTargetLevel, String minSourceLevel, Validity validity,
        String description, int line) {

    public Rule {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(effect, "effect");
        directions = Set.copyOf(directions);
        users = List.copyOf(users);
        roles = List.copyOf(roles);
        devices = List.copyOf(devices);
        groups = List.copyOf(groups);
        validity = validity == null ? Validity.ALWAYS : validity;
    }
}
