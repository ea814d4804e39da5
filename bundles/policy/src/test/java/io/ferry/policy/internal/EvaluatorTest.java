package io.ferry.policy.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.ferry.api.policy.Decision;
import io.ferry.api.policy.DecisionRequest;
import io.ferry.api.policy.Device;
import io.ferry.api.policy.Direction;
import io.ferry.api.policy.Effect;
import io.ferry.api.policy.Policy;
import io.ferry.api.policy.Rule;
import io.ferry.api.policy.Validity;

/** The decision as a table: the paper's scenario first, then roles, groups, levels, validity, conflicts. */
class EvaluatorTest {

    static final Policy POLICY = PolicyParser.parse(Fixtures.POLICY, Fixtures.LEVELS);
    static final Instant NOW = Instant.parse("2026-03-15T10:00:00Z");
    static final Direction OUT = Direction.OUT;
    static final Direction IN = Direction.IN;
    static final Effect ALLOW = Effect.ALLOW;
    static final Effect DENY = Effect.DENY;

    static Device dev(String name, String level, String... groups) {
        return new Device(name, Set.of(groups), level);
    }

    static Arguments row(String name, Direction dir, String user, Device target, Device source, String time,
            Effect effect, String rule, String reasonPart) {
        return Arguments.of(name, new DecisionRequest(dir, Fixtures.UUID, user, source, target,
                time == null ? NOW : Instant.parse(time)), effect, rule, reasonPart);
    }

    static Stream<Arguments> table() {
        Device midMeasured = dev("alice-mid", "measured");
        return Stream.of(
                // the paper: the owner moves the VM between the owner's MID and laptop when both reach the level
                row("owner to own laptop at the level", OUT, "alice", dev("alice-laptop", "measured"), midMeasured, null,
                        ALLOW, "owner-own-devices", "target measured reaches measured"),
                row("owner to own MID above the level", OUT, "alice", dev("alice-mid", "attested"), null, null,
                        ALLOW, "owner-own-devices", "allows alice"),
                row("owner migrate-in, both at the level", IN, "alice", dev("alice-laptop", "measured"), midMeasured,
                        null, ALLOW, "owner-own-devices", "source measured reaches measured"),
                // ...and a move to another person's device that lacks the framework or the level is denied
                row("other person's device, not attested", OUT, "alice", dev("bob-pc", null), null, null,
                        DENY, null, "target 'bob-pc' is not in the groups [alice-devices]"),
                row("other person's device, untrusted", OUT, "alice", dev("bob-pc", "untrusted"), null, null,
                        DENY, null, "no rule allows alice"),
                row("own laptop below the level", OUT, "alice", dev("alice-laptop", "basic"), null, null,
                        DENY, null, "needs the target at level measured or above; 'alice-laptop' is basic"),
                row("own laptop without attestation", OUT, "alice", dev("alice-laptop", null), null, null,
                        DENY, null, "unknown level"),
                row("migrate-in from a source below the level", IN, "alice", dev("alice-laptop", "attested"),
                        dev("alice-mid", "basic"), null, DENY, null, "needs the source at level measured"),
                row("migrate-in from an unknown source", IN, "alice", dev("alice-laptop", "attested"), null, null,
                        DENY, null, "the source is not known"),
                row("migrate-in from an unattested source", IN, "alice", dev("alice-laptop", "attested"),
                        dev("alice-mid", null), null, DENY, null, "unknown level"),
                row("migrate-out ignores the source level", OUT, "alice", dev("alice-laptop", "measured"),
                        dev("alice-mid", "untrusted"), null, ALLOW, "owner-own-devices", null),
                // roles
                row("family member to another's device", OUT, "bob", dev("alice-laptop", "attested"), null, null,
                        DENY, null, "bob is not in the roles [owner]"),
                row("family member to home PC, attested", OUT, "bob", dev("home-pc", "attested"), null, null,
                        ALLOW, "family-home-pc", null),
                row("family member to home PC, only measured", OUT, "bob", dev("home-pc", "measured"), null, null,
                        DENY, null, "closest: rule 'family-home-pc'"),
                row("family rule is out only", IN, "bob", dev("home-pc", "attested"), dev("alice-mid", "attested"),
                        null, DENY, null, "for migrate-out only"),
                row("second family member", OUT, "carol", dev("home-pc", "attested"), null, null,
                        ALLOW, "family-home-pc", null),
                row("stranger holds no role", OUT, "mallory", dev("home-pc", "attested"), null, null,
                        DENY, null, "no rule allows mallory"),
                row("user names are case sensitive", OUT, "Alice", dev("alice-laptop", "attested"), null, null,
                        DENY, null, null),
                row("role name is not a user name", OUT, "family", dev("home-pc", "attested"), null, null,
                        DENY, null, null),
                // deny wins
                row("deny rule for one user and device", OUT, "carol", dev("alice-laptop", "attested"), null, null,
                        DENY, "no-carol-laptop", "rule 'no-carol-laptop' denies carol"),
                row("deny wins over a matching allow", OUT, "alice", dev("alice-laptop", "attested", "public"), null,
                        null, DENY, "never-public", "deny wins over rule 'owner-own-devices'"),
                row("deny for any user applies to the owner on migrate-in", IN, "alice",
                        dev("alice-mid", "attested", "public"), midMeasured, null, DENY, "never-public", null),
                row("deny by group needs the group", OUT, "bob", dev("home-pc", "attested", "private"), null, null,
                        ALLOW, "family-home-pc", null),
                // groups: from the policy, or from the request
                row("group membership from the request", OUT, "alice", dev("alice-tablet", "measured", "alice-devices"),
                        null, null, ALLOW, "owner-own-devices", null),
                row("device outside every group", OUT, "alice", dev("alice-tablet", "attested"), null, null,
                        DENY, null, "not in the groups [alice-devices]"),
                row("maintenance group via request", OUT, "dave", dev("shop-1", "basic", "maintenance"), null,
                        "2026-06-01T12:00:00Z", ALLOW, "admins-maintenance", null),
                row("maintenance below basic", OUT, "dave", dev("shop-1", "untrusted", "maintenance"), null,
                        "2026-06-01T12:00:00Z", DENY, null, "basic or above"),
                // validity of a rule: from inclusive, until exclusive
                row("rule validity: first instant", OUT, "dave", dev("shop-1", "basic", "maintenance"), null,
                        "2026-06-01T00:00:00Z", ALLOW, "admins-maintenance", null),
                row("rule validity: one second before", OUT, "dave", dev("shop-1", "basic", "maintenance"), null,
                        "2026-05-31T23:59:59Z", DENY, null, "the rule is not valid before 2026-06-01T00:00:00Z"),
                row("rule validity: last nanosecond", OUT, "dave", dev("shop-1", "basic", "maintenance"), null,
                        "2026-06-01T23:59:59.999999999Z", ALLOW, "admins-maintenance", null),
                row("rule validity: until is excluded", OUT, "dave", dev("shop-1", "basic", "maintenance"), null,
                        "2026-06-02T00:00:00Z", DENY, null, "the rule expired at 2026-06-02T00:00:00Z"),
                // validity of the policy
                row("policy not yet valid", OUT, "alice", dev("alice-laptop", "attested"), null,
                        "2025-12-31T23:59:59Z", DENY, null, "is not valid before 2026-01-01T00:00:00Z"),
                row("policy valid from its first instant", OUT, "alice", dev("alice-laptop", "attested"), null,
                        "2026-01-01T00:00:00Z", ALLOW, "owner-own-devices", null),
                row("policy expired at until", OUT, "alice", dev("alice-laptop", "attested"), null,
                        "2027-01-01T00:00:00Z", DENY, null, "expired at 2027-01-01T00:00:00Z"),
                // levels
                row("unknown level reaches nothing", OUT, "alice", dev("alice-laptop", "superb"), null, null,
                        DENY, null, "not a known level"),
                row("highest level reaches every minimum", OUT, "bob", dev("home-pc", "attested"), null, null,
                        ALLOW, "family-home-pc", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void decides(String name, DecisionRequest request, Effect effect, String rule, String reasonPart) {
        Decision d = Evaluator.decide(POLICY, request, Fixtures.LEVELS);
        assertThat(d.effect()).as(d.reason()).isEqualTo(effect);
        assertThat(d.rule()).as(d.reason()).isEqualTo(rule);
        assertThat(d.allowed()).isEqualTo(effect == ALLOW);
        assertThat(d.version()).isEqualTo(3);
        if (reasonPart != null) {
            // what policy:check prints: the reason, then every rule's outcome
            assertThat(d.reason() + "\n" + String.join("\n", d.trace())).contains(reasonPart);
        }
    }

    /** Deny wins and no match is deny whatever the order of the rules. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void orderOfRulesDoesNotMatter(String name, DecisionRequest request, Effect effect, String rule, String ignored) {
        List<Rule> reversed = new ArrayList<>(POLICY.rules());
        Collections.reverse(reversed);
        Policy p = new Policy(POLICY.version(), POLICY.vm(), POLICY.owner(), POLICY.roles(), POLICY.deviceGroups(),
                POLICY.validity(), reversed);
        Decision d = Evaluator.decide(p, request, Fixtures.LEVELS);
        assertThat(d.effect()).isEqualTo(effect);
        assertThat(d.rule()).isEqualTo(rule);
    }

    @Test
    void anotherVmIsDenied() {
        Decision d = Evaluator.decide(POLICY, new DecisionRequest(OUT, "00000000-0000-0000-0000-000000000001", "alice",
                null, dev("alice-laptop", "attested"), NOW), Fixtures.LEVELS);
        assertThat(d.effect()).isEqualTo(DENY);
        assertThat(d.rule()).isNull();
        assertThat(d.reason()).contains("the policy is for VM 'alice-desktop'");
    }

    @Test
    void vmByNameOrUpperCaseUuid() {
        for (String vm : List.of("alice-desktop", Fixtures.UUID.toUpperCase())) {
            Decision d = Evaluator.decide(POLICY, new DecisionRequest(OUT, vm, "alice", null,
                    dev("alice-laptop", "attested"), NOW), Fixtures.LEVELS);
            assertThat(d.effect()).as(vm).isEqualTo(ALLOW);
        }
    }

    @Test
    void traceExplainsEveryRule() {
        Decision d = Evaluator.decide(POLICY, new DecisionRequest(OUT, Fixtures.UUID, "bob", null,
                dev("home-pc", "measured"), NOW), Fixtures.LEVELS);
        assertThat(d.trace()).hasSize(POLICY.rules().size());
        assertThat(d.trace().get(0)).startsWith("rule 'owner-own-devices' (allow, line 17): does not apply: bob");
        assertThat(d.trace().get(1)).contains("family-home-pc").contains("needs the target at level attested");
        assertThat(d.reason()).isEqualTo("no rule allows bob migrating VM 'alice-desktop' out to 'home-pc'; closest: "
                + "rule 'family-home-pc': it needs the target at level attested or above; 'home-pc' is measured");
    }

    @Test
    void allowReasonNamesRuleLevelsAndDescription() {
        Decision d = Evaluator.decide(POLICY, new DecisionRequest(IN, Fixtures.UUID, "alice", dev("alice-mid", "attested"),
                dev("alice-laptop", "measured"), NOW), Fixtures.LEVELS);
        assertThat(d.reason()).isEqualTo("rule 'owner-own-devices' allows alice migrating VM 'alice-desktop' in to "
                + "'alice-laptop' from 'alice-mid' (target measured reaches measured, source attested reaches measured)"
                + " [The owner moves the VM between the owner's own devices.]");
    }

    @Test
    void wildcardDeviceAndUser() {
        Rule any = new Rule("anyone-anywhere", ALLOW, Set.of(OUT), List.of("*"), List.of(), List.of("*"), List.of(),
                null, null, null, null, 0);
        Policy p = new Policy(1, POLICY.vm(), "alice", java.util.Map.of(), java.util.Map.of(), null, List.of(any));
        assertThat(Evaluator.decide(p, new DecisionRequest(OUT, Fixtures.UUID, "x", null, dev("y", null), NOW),
                Fixtures.LEVELS).effect()).isEqualTo(ALLOW);
        assertThat(Evaluator.decide(p, new DecisionRequest(IN, Fixtures.UUID, "x", null, dev("y", null), NOW),
                Fixtures.LEVELS).effect()).isEqualTo(DENY);
    }

    @Test
    void onlyDenyRulesDenyEverything() {
        Rule deny = new Rule("nothing", DENY, Set.of(OUT, IN), List.of("*"), List.of(), List.of("*"), List.of(),
                null, null, new Validity(null, null), null, 0);
        Policy p = new Policy(1, POLICY.vm(), "alice", java.util.Map.of(), java.util.Map.of(), null, List.of(deny));
        Decision d = Evaluator.decide(p, new DecisionRequest(OUT, Fixtures.UUID, "alice", null, dev("a", "attested"), NOW),
                Fixtures.LEVELS);
        assertThat(d.effect()).isEqualTo(DENY);
        assertThat(d.rule()).isEqualTo("nothing");
    }

    @Test
    void expiredDenyRuleNoLongerDenies() {
        Rule deny = new Rule("old-ban", DENY, Set.of(OUT), List.of("alice"), List.of(), List.of("*"), List.of(), null,
                null, new Validity(null, Instant.parse("2026-02-01T00:00:00Z")), null, 0);
        List<Rule> rules = new ArrayList<>(POLICY.rules());
        rules.add(deny);
        Policy p = new Policy(3, POLICY.vm(), "alice", POLICY.roles(), POLICY.deviceGroups(), POLICY.validity(), rules);
        DecisionRequest before = new DecisionRequest(OUT, Fixtures.UUID, "alice", null, dev("alice-laptop", "attested"),
                Instant.parse("2026-01-31T00:00:00Z"));
        assertThat(Evaluator.decide(p, before, Fixtures.LEVELS).rule()).isEqualTo("old-ban");
        DecisionRequest after = new DecisionRequest(OUT, Fixtures.UUID, "alice", null, dev("alice-laptop", "attested"),
                Instant.parse("2026-02-01T00:00:00Z"));
        assertThat(Evaluator.decide(p, after, Fixtures.LEVELS).rule()).isEqualTo("owner-own-devices");
    }
}
