package io.ferry.api.policy;

import java.util.List;
import java.util.Objects;

/**
 * The answer to a {@link DecisionRequest}.
 *
 * @param effect  ALLOW or DENY
 * @param rule    the id of the rule that decided, or null when no rule did (no matching rule,
 *                no policy, policy outside its validity): then the effect is DENY
 * @param reason  one sentence a person understands
 * @param version the version of the policy that decided, or -1 when there was none
 * @param trace   for each rule, whether it matched and why not: what {@code policy:check} prints
 */
public record Decision(Effect effect, String rule, String reason, long version, List<String> trace) {

    public Decision {
        Objects.requireNonNull(effect, "effect");
        Objects.requireNonNull(reason, "reason");
        trace = List.copyOf(trace);
    }

    public boolean allowed() {
        return effect == Effect.ALLOW;
    }

    /** A deny decided by no rule (no policy, or a policy that cannot be used). */
    public static Decision denyWithoutPolicy(String reason) {
        return new Decision(Effect.DENY, null, reason, -1, List.of());
    }
}
