package io.ferry.policy.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPair;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.policy.Decision;
import io.ferry.api.policy.DecisionRequest;
import io.ferry.api.policy.Device;
import io.ferry.api.policy.Direction;
import io.ferry.api.policy.Effect;
import io.ferry.seal.testing.MemorySealStorage;

/**
 * The paper's scenario, end to end through the parts an agent uses: the IT center signs the owner's
 * policy (PolicySigner), the agent imports it into seal storage (PolicyService), and every migration
 * is decided with the verifier's levels ({@code untrusted < measured < trusted}) and reported. The
 * owner moves her VM between her MID and her laptop when both reach the level she set; a move to
 * another person's device — one without the framework (never attested), or one whose level is too
 * low — is denied, as is anyone else's request. Version 2 of the policy raises the level.
 */
class PaperScenarioTest {

    static final SecurityLevels LEVELS = SecurityLevels.DEFAULT;
    static final KeyPair IT_CENTER = Fixtures.p256();
    static final Instant NOW = Instant.parse("2026-03-15T10:00:00Z");

    static String policy(long version, String ownerLevel) {
        return """
                ferry-policy: 1
                version: %d
                vm:
                  name: alice-work
                  uuid: 0b9f6a3e-8c1d-4e2f-9a7b-6c5d4e3f2a10
                  image-digest: sha256:%s
                owner: alice
                device-groups:
                  alice-devices: [alice-mid, alice-laptop]
                rules:
                  - id: owner-own-devices
                    effect: allow
                    direction: both
                    roles: [owner]
                    groups: [alice-devices]
                    min-target-level: %s
                    min-source-level: %s
                    description: The owner moves the VM between her own devices at the level she set.
                """.formatted(version, "12".repeat(32), ownerLevel, ownerLevel);
    }

    static Device mid(String level) {
        return Device.of("alice-mid", level);
    }

    static Device laptop(String level) {
        return Device.of("alice-laptop", level);
    }

    static Device bobPc(String level) {
        return new Device("bob-pc", Set.of("bob-devices"), level);
    }

    static Arguments row(String what, int version, Direction dir, String user, Device source, Device target,
            Effect effect, String reason) {
        return Arguments.of(what, version, dir, user, source, target, effect, reason);
    }

    static Stream<Arguments> scenario() {
        Direction out = Direction.OUT;
        Direction in = Direction.IN;
        return Stream.of(
                row("MID to laptop, laptop at the owner's level", 1, out, "alice", mid("measured"), laptop("measured"),
                        Effect.ALLOW, "rule 'owner-own-devices' allows alice"),
                row("MID to laptop, laptop above the level", 1, out, "alice", mid("trusted"), laptop("trusted"),
                        Effect.ALLOW, "target trusted reaches measured"),
                row("laptop back to MID, as the source sees it", 1, out, "alice", laptop("measured"), mid("trusted"),
                        Effect.ALLOW, "owner-own-devices"),
                row("laptop back to MID, as the MID sees it (migrate-in)", 1, in, "alice", laptop("measured"),
                        mid("trusted"), Effect.ALLOW, "source measured reaches measured"),
                row("laptop below the level", 1, out, "alice", mid("trusted"), laptop("untrusted"), Effect.DENY,
                        "needs the target at level measured or above; 'alice-laptop' is untrusted"),
                row("laptop not attested", 1, out, "alice", mid("trusted"), laptop(null), Effect.DENY,
                        "unknown level (not attested)"),
                row("migrate-in from a source below the level", 1, in, "alice", laptop("untrusted"), mid("trusted"),
                        Effect.DENY, "needs the source at level measured"),
                row("another person's device without the framework", 1, out, "alice", mid("trusted"), bobPc(null),
                        Effect.DENY, "no rule allows alice migrating VM 'alice-work' out to 'bob-pc'"),
                row("another person's device with the framework, untrusted", 1, out, "alice", mid("trusted"),
                        bobPc("untrusted"), Effect.DENY, "target 'bob-pc' is not in the groups [alice-devices]"),
                row("another person's device even at the highest level", 1, out, "alice", mid("trusted"),
                        bobPc("trusted"), Effect.DENY, "no rule allows"),
                row("another person moves the owner's VM", 1, out, "bob", mid("trusted"), laptop("trusted"),
                        Effect.DENY, "bob is not in the roles [owner]"),
                row("another person moves it to his own device", 1, out, "bob", mid("trusted"), bobPc("trusted"),
                        Effect.DENY, "no rule allows bob"),
                // version 2: the owner raises her level to trusted
                row("v2: laptop at the old level no longer suffices", 2, out, "alice", mid("trusted"),
                        laptop("measured"), Effect.DENY, "needs the target at level trusted"),
                row("v2: laptop at the new level", 2, out, "alice", mid("trusted"), laptop("trusted"), Effect.ALLOW,
                        "target trusted reaches trusted"),
                row("v2: migrate-in from a measured source", 2, in, "alice", laptop("measured"), mid("trusted"),
                        Effect.DENY, "needs the source at level trusted"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenario")
    void decides(String what, int version, Direction dir, String user, Device source, Device target, Effect effect,
            String reason) {
        NimbusPolicySigner itCenter = new NimbusPolicySigner();
        SealedPolicyService agent = new SealedPolicyService(new MemorySealStorage(), LEVELS, IT_CENTER.getPublic());
        List<Decision> audited = new ArrayList<>();
        agent.audits = List.of((r, d, p) -> audited.add(d));
        agent.importPolicy(itCenter.sign(policy(1, "measured"), LEVELS, IT_CENTER).jws());
        if (version == 2) {
            agent.importPolicy(itCenter.sign(policy(2, "trusted"), LEVELS, IT_CENTER).jws());
        }
        Decision d = agent.decide(new DecisionRequest(dir, "alice-work", user, source, target, NOW));
        assertThat(d.effect()).as(d.reason()).isEqualTo(effect);
        assertThat(d.rule()).isEqualTo(effect == Effect.ALLOW ? "owner-own-devices" : null);
        assertThat(d.version()).isEqualTo(version);
        assertThat(d.reason() + "\n" + String.join("\n", d.trace())).contains(reason);
        assertThat(audited).as("every decision is reported").containsExactly(d);
    }
}
