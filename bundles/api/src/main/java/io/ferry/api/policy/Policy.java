package io.ferry.api.policy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A VM's migration policy, as parsed from its document (see {@code docs/policy.md}).
 *
 * @param version      grows with every new policy the IT center signs for this VM; agents refuse an older one
 * @param vm           the VM it is for
 * @param owner        the user who owns the VM (holds the built-in role {@code owner})
 * @param roles        role name to member user names
 * @param deviceGroups device group name to device names (a request may name more groups of its target)
 * @param validity     when the policy applies at all
 * @param rules        in document order (the order does not change a decision: deny wins)
 */
public record Policy(long version, VmIdentity vm, String owner, Map<String, List<String>> roles,
        Map<String, List<String>> deviceGroups, Validity validity, List<Rule> rules) {

    /** The built-in role that only the owner holds. */
    public static final String OWNER_ROLE = "owner";

    public Policy {
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(owner, "owner");
        roles = copy(roles);
        deviceGroups = copy(deviceGroups);
        validity = validity == null ? Validity.ALWAYS : validity;
        rules = List.copyOf(rules);
    }

    private static Map<String, List<String>> copy(Map<String, List<String>> m) {
        Map<String, List<String>> c = new LinkedHashMap<>();
        m.forEach((k, v) -> c.put(k, List.copyOf(v)));
        return java.util.Collections.unmodifiableMap(c);
    }

    /** Whether {@code user} holds {@code role} in this policy. */
    public boolean hasRole(String user, String role) {
        if (OWNER_ROLE.equals(role)) {
            return owner.equals(user);
        }
        List<String> members = roles.get(role);
        return members != null && members.contains(user);
    }
}
