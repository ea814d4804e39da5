package io.ferry.policy.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.ferry.api.policy.Decision;
import io.ferry.api.policy.DecisionRequest;
import io.ferry.api.policy.Device;
import io.ferry.api.policy.Direction;
import io.ferry.api.policy.Effect;
import io.ferry.api.policy.Policy;
import io.ferry.api.policy.Rule;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.policy.Validity;

/**
 * The decision: a pure function of request, policy and security-level ordering. A matching deny
 * rule wins over every allow rule; without a matching allow rule the answer is deny. Every rule's
 * outcome goes into the trace, and a deny that no rule made names the allow rules that came
 * closest and why they did not apply.
 * <p>
 * Why not jCasbin (or another engine): Casbin's RBAC-with-deny model covers subjects, roles and
 * deny-override, but three of this model's conditions are not string matches: an ordered security
 * level ("measured or above", for the target and, on migrate-in, the source), validity periods of
 * the policy and of each rule, and device groups that come partly from the policy and partly from
 * the request. In Casbin they become custom matcher functions in an Aviator expression, the YAML
 * would be translated into CSV policy lines (losing the line numbers errors must name), and
 * {@code enforceEx} reports only the matching line, not why the other rules missed, which is what
 * {@code policy:check} must explain. jCasbin 1.73 is also no OSGi bundle (plain jar manifest) and
 * brings Aviator (class generation at run time), Gson, Jackson, commons-csv/-io and an IP-address
 * library into the agent. The whole evaluation here is about a hundred lines and tested
 * exhaustively, so the hand-written evaluator is the smaller and more auditable choice.
 */
public final class Evaluator {

    private Evaluator() {
    }

    public static Decision decide(Policy policy, DecisionRequest request, SecurityLevels levels) {
        String vm = "VM '" + policy.vm().name() + "'";
        Instant t = request.time();
        if (!request.vm().equalsIgnoreCase(policy.vm().uuid()) && !request.vm().equals(policy.vm().name())) {
            return new Decision(Effect.DENY, null, "the policy is for " + vm + " (" + policy.vm().uuid()
                    + "), not for '" + request.vm() + "'", policy.version(), List.of());
        }
        if (!policy.validity().contains(t)) {
            return new Decision(Effect.DENY, null, "the policy of " + vm + " " + outside(policy.validity(), t)
                    + ": it allows nothing", policy.version(), List.of());
        }
        Set<String> targetGroups = groups(policy, request.target());
        String action = request.user() + " migrating " + vm + " " + request.direction().word() + " to '"
                + request.target().name() + "'" + (request.direction() == Direction.IN && request.source() != null
                        ? " from '" + request.source().name() + "'" : "");

        List<String> trace = new ArrayList<>();
        Rule deny = null;
        Rule allow = null;
        List<String> nearMisses = new ArrayList<>();
        for (Rule r : policy.rules()) {
            String label = "rule '" + r.id() + "' (" + r.effect().word() + (r.line() > 0 ? ", line " + r.line() : "")
                    + ")";
            String miss = scope(policy, r, request, targetGroups);
            if (miss != null) {
                trace.add(label + ": does not apply: " + miss);
                continue;
            }
            String validity = r.validity().contains(t) ? null : "the rule " + outside(r.validity(), t);
            String level = r.effect() == Effect.ALLOW ? levels(r, request, levels) : null;
            String fails = validity != null ? validity : level;
            if (fails != null) {
                trace.add(label + ": does not apply: " + fails);
                if (r.effect() == Effect.ALLOW) {
                    nearMisses.add("rule '" + r.id() + "': " + fails);
                }
                continue;
            }
            trace.add(label + ": matches");
            if (r.effect() == Effect.DENY && deny == null) {
                deny = r;
            } else if (r.effect() == Effect.ALLOW && allow == null) {
                allow = r;
            }
        }
        if (deny != null) {
            String also = allow != null ? " (deny wins over rule '" + allow.id() + "', which would allow it)" : "";
            return new Decision(Effect.DENY, deny.id(), "rule '" + deny.id() + "' denies " + action + also
                    + describe(deny), policy.version(), trace);
        }
        if (allow != null) {
            return new Decision(Effect.ALLOW, allow.id(), "rule '" + allow.id() + "' allows " + action
                    + met(allow, request) + describe(allow), policy.version(), trace);
        }
        return new Decision(Effect.DENY, null, "no rule allows " + action
                + (nearMisses.isEmpty() ? "" : "; closest: " + String.join("; ", nearMisses)), policy.version(), trace);
    }

    /** Why the rule is not about this request (direction, subject, target), or null when it is. */
    private static String scope(Policy policy, Rule r, DecisionRequest request, Set<String> targetGroups) {
        if (!r.directions().contains(request.direction())) {
            return "it is for migrate-" + r.directions().iterator().next().word() + " only";
        }
        String user = request.user();
        boolean subject = r.users().contains("*") || r.users().contains(user);
        for (String role : r.roles()) {
            subject |= policy.hasRole(user, role);
        }
        if (!subject) {
            return user + " is not " + either("among the users", r.users(), "in the roles", r.roles());
        }
        Device target = request.target();
        boolean device = r.devices().contains("*") || r.devices().contains(target.name());
        for (String g : r.groups()) {
            device |= targetGroups.contains(g);
        }
        if (!device) {
            return "target '" + target.name() + "' is not " + either("among the devices", r.devices(),
                    "in the groups", r.groups());
        }
        return null;
    }

    /** Why the levels do not reach the rule's minimums, or null when they do. */
    private static String levels(Rule r, DecisionRequest request, SecurityLevels levels) {
        if (r.minTargetLevel() != null && !Levels.reaches(levels, request.target().level(), r.minTargetLevel())) {
            return "it needs the target at level " + r.minTargetLevel() + " or above; '" + request.target().name()
                    + "' is " + level(request.target().level(), levels);
        }
        if (request.direction() == Direction.IN && r.minSourceLevel() != null) {
            Device source = request.source();
            if (source == null || !Levels.reaches(levels, source.level(), r.minSourceLevel())) {
                return "it needs the source at level " + r.minSourceLevel() + " or above; "
                        + (source == null ? "the source is not known" : "'" + source.name() + "' is "
                                + level(source.level(), levels));
            }
        }
        return null;
    }

    private static String level(String level, SecurityLevels levels) {
        if (level == null) {
            return "of unknown level (not attested)";
        }
        return Levels.known(levels, level) ? level
                : "at '" + level + "', which is not a known level (" + Levels.describe(levels) + ")";
    }

    private static String met(Rule r, DecisionRequest request) {
        List<String> parts = new ArrayList<>();
        if (r.minTargetLevel() != null) {
            parts.add("target " + request.target().level() + " reaches " + r.minTargetLevel());
        }
        if (request.direction() == Direction.IN && r.minSourceLevel() != null) {
            parts.add("source " + request.source().level() + " reaches " + r.minSourceLevel());
        }
        return parts.isEmpty() ? "" : " (" + String.join(", ", parts) + ")";
    }

    private static Set<String> groups(Policy policy, Device device) {
        Set<String> groups = new HashSet<>(device.groups());
        policy.deviceGroups().forEach((g, members) -> {
            if (members.contains(device.name())) {
                groups.add(g);
            }
        });
        return groups;
    }

    private static String outside(Validity v, Instant t) {
        return v.notYet(t) ? "is not valid before " + v.from() : "expired at " + v.until();
    }

    private static String either(String a, List<String> as, String b, List<String> bs) {
        if (as.isEmpty()) {
            return b + " " + bs;
        }
        if (bs.isEmpty()) {
            return a + " " + as;
        }
        return a + " " + as + " nor " + b + " " + bs;
    }

    private static String describe(Rule r) {
        return r.description() == null || r.description().isBlank() ? ""
                : " [" + r.description().strip().replaceAll("\\s+", " ") + "]";
    }
}
