package io.ferry.policy.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.ferry.api.policy.Decision;
import io.ferry.api.policy.DecisionAudit;
import io.ferry.api.policy.DecisionRequest;
import io.ferry.api.policy.Device;
import io.ferry.api.policy.Direction;
import io.ferry.api.policy.Effect;
import io.ferry.api.policy.PolicyException;
import io.ferry.api.policy.PolicyException.Reason;
import io.ferry.api.policy.SignedPolicy;
import io.ferry.api.seal.SealException;
import io.ferry.seal.testing.MemorySealStorage;

class SealedPolicyServiceTest {

    static final KeyPair IT_CENTER = Fixtures.p256();
    static final KeyPair OTHER = Fixtures.p256();
    static final String NAME = "policy." + Fixtures.UUID;
    static final Instant NOW = Instant.parse("2026-03-15T10:00:00Z");

    final NimbusPolicySigner signer = new NimbusPolicySigner();
    final MemorySealStorage storage = new MemorySealStorage();
    final SealedPolicyService service = new SealedPolicyService(storage, Fixtures.LEVELS, IT_CENTER.getPublic());
    final List<Decision> audited = new ArrayList<>();

    String signed(long version) {
        return signer.sign(Fixtures.version(version), Fixtures.LEVELS, IT_CENTER).jws();
    }

    String stored() {
        return new String(storage.secrets.get(NAME), StandardCharsets.US_ASCII);
    }

    static DecisionRequest toLaptop(String level) {
        return new DecisionRequest(Direction.OUT, Fixtures.UUID, "alice", null, Device.of("alice-laptop", level), NOW);
    }

    void refused(String jws, String expectedVm, Reason reason, String message) {
        Map<String, byte[]> before = Map.copyOf(storage.secrets);
        int puts = storage.puts;
        assertThatThrownBy(() -> service.importPolicy(jws, expectedVm)).isInstanceOf(PolicyException.class)
                .hasMessageContaining(message).extracting(e -> ((PolicyException) e).reason()).isEqualTo(reason);
        assertThat(storage.puts).as("nothing stored").isEqualTo(puts);
        assertThat(storage.secrets.keySet()).isEqualTo(before.keySet());
    }

    @Test
    void importStoresTheSignedPolicySealed() {
        String jws = signed(3);
        SignedPolicy p = service.importPolicy(jws);
        assertThat(p.policy().version()).isEqualTo(3);
        assertThat(storage.secrets).containsOnlyKeys(NAME);
        assertThat(stored()).isEqualTo(jws);
        assertThat(service.list()).extracting(s -> s.policy().vm().name()).containsExactly("alice-desktop");
        assertThat(service.get(Fixtures.UUID)).get().extracting(SignedPolicy::jws).isEqualTo(jws);
        assertThat(service.get(Fixtures.UUID.toUpperCase())).isPresent();
        assertThat(service.get("alice-desktop")).get().extracting(SignedPolicy::document).isEqualTo(Fixtures.POLICY);
        assertThat(service.get("nobody")).isEmpty();
        assertThat(service.get("00000000-0000-0000-0000-000000000000")).isEmpty();
    }

    @Test
    void importForTheExpectedVm() {
        assertThat(service.importPolicy(signed(3), Fixtures.UUID.toUpperCase()).policy().version()).isEqualTo(3);
    }

    @Test
    void policyForAnotherVmIsRefused() {
        refused(signed(3), "11111111-2222-3333-4444-555555555555", Reason.WRONG_VM, "not for 11111111");
    }

    @Test
    void olderVersionIsRefused() {
        service.importPolicy(signed(5));
        refused(signed(4), null, Reason.ROLLBACK, "holds version 5");
        refused(signed(1), Fixtures.UUID, Reason.ROLLBACK, "older");
        assertThat(service.get(Fixtures.UUID).orElseThrow().policy().version()).isEqualTo(5);
    }

    @Test
    void newerVersionReplaces() {
        service.importPolicy(signed(3));
        String v4 = signed(4);
        service.importPolicy(v4);
        assertThat(stored()).isEqualTo(v4);
        assertThat(storage.puts).isEqualTo(2);
    }

    @Test
    void sameVersionAgainChangesNothing() {
        String jws = signed(3);
        service.importPolicy(jws);
        service.importPolicy(jws);
        service.importPolicy(signed(3)); // another ECDSA signature over the same document
        assertThat(storage.puts).isEqualTo(1);
        assertThat(stored()).isEqualTo(jws);
    }

    /** A policy once verified is remembered by its exact bytes only: a copy with one signature bit flipped is not it. */
    @Test
    void aTamperedCopyOfAnImportedPolicyIsStillRefused() {
        String jws = signed(3);
        service.importPolicy(jws);
        service.importPolicy(jws); // the same bytes again: taken from what was verified
        char last = jws.charAt(jws.length() - 5);
        String flipped = jws.substring(0, jws.length() - 5) + (last == 'A' ? 'B' : 'A') + jws.substring(jws.length() - 4);
        refused(flipped, null, Reason.BAD_SIGNATURE, "does not verify");
        assertThat(stored()).isEqualTo(jws);
    }

    @Test
    void sameVersionOtherDocumentIsRefused() {
        service.importPolicy(signed(3));
        String other = signer.sign(Fixtures.POLICY.replace("min-target-level: measured", "min-target-level: basic"),
                Fixtures.LEVELS, IT_CENTER).jws();
        refused(other, null, Reason.VERSION_CONFLICT, "same version 3");
    }

    @Test
    void otherKeyIsRefused() {
        refused(signer.sign(Fixtures.POLICY, Fixtures.LEVELS, OTHER).jws(), null, Reason.WRONG_KEY, "IT center key");
    }

    @Test
    void tamperedIsRefused() {
        String[] p = signed(3).split("\\.");
        String forged = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                Fixtures.version(9).getBytes(StandardCharsets.UTF_8));
        refused(p[0] + "." + forged + "." + p[2], null, Reason.BAD_SIGNATURE, "does not verify");
    }

    @Test
    void withoutKeyNothingIsImportedAndEverythingDenied() {
        SealedPolicyService keyless = new SealedPolicyService(storage, Fixtures.LEVELS, "no IT center policy key: x");
        assertThatThrownBy(() -> keyless.importPolicy(signed(3))).isInstanceOf(PolicyException.class)
                .hasMessage("no IT center policy key: x");
        service.importPolicy(signed(3));
        Decision d = keyless.decide(toLaptop("attested"));
        assertThat(d.effect()).isEqualTo(Effect.DENY);
        assertThat(d.reason()).contains("cannot be used: no IT center policy key");
    }

    @Test
    void sealStorageRefusalIsReported() {
        storage.failGets(SealException.Reason.PCR_MISMATCH, "PCR 23 differs from the approved value");
        storage.failPuts(SealException.Reason.PCR_MISMATCH, "PCR 23 differs from the approved value");
        assertThatThrownBy(() -> service.importPolicy(signed(3))).isInstanceOf(PolicyException.class)
                .hasMessageContaining("seal storage refused the policy")
                .extracting(e -> ((PolicyException) e).reason()).isEqualTo(Reason.STORAGE);
    }

    @Test
    void decidesWithTheStoredPolicyAndReportsIt() {
        service.audits = List.of((r, d, p) -> audited.add(d));
        service.importPolicy(signed(3));
        Decision allow = service.decide(toLaptop("measured"));
        assertThat(allow.effect()).isEqualTo(Effect.ALLOW);
        assertThat(allow.rule()).isEqualTo("owner-own-devices");
        Decision deny = service.decide(toLaptop("basic"));
        assertThat(deny.effect()).isEqualTo(Effect.DENY);
        assertThat(audited).containsExactly(allow, deny);
    }

    @Test
    void checkIsNotReported() {
        service.audits = List.of((r, d, p) -> audited.add(d));
        service.importPolicy(signed(3));
        assertThat(service.check(toLaptop("measured")).effect()).isEqualTo(Effect.ALLOW);
        assertThat(audited).isEmpty();
    }

    @Test
    void noPolicyIsDenyAndReported() {
        List<SignedPolicy> policies = new ArrayList<>();
        service.audits = List.of((r, d, p) -> {
            audited.add(d);
            policies.add(p);
        });
        Decision d = service.decide(toLaptop("attested"));
        assertThat(d.effect()).isEqualTo(Effect.DENY);
        assertThat(d.rule()).isNull();
        assertThat(d.reason()).contains("holds no policy");
        assertThat(audited).containsExactly(d);
        assertThat(policies).containsExactly((SignedPolicy) null);
    }

    @Test
    void failingAuditDoesNotChangeTheDecision() {
        DecisionAudit broken = (r, d, p) -> {
            throw new IllegalStateException("IT center unreachable");
        };
        service.audits = List.of(broken, (r, d, p) -> audited.add(d));
        service.importPolicy(signed(3));
        Decision d = service.decide(toLaptop("attested"));
        assertThat(d.effect()).isEqualTo(Effect.ALLOW);
        assertThat(audited).containsExactly(d);
    }

    @Test
    void unsealableStorageDenies() {
        service.importPolicy(signed(3));
        storage.failGets(SealException.Reason.PCR_MISMATCH, "PCR 23 differs from the approved value");
        storage.failPuts(SealException.Reason.PCR_MISMATCH, "PCR 23 differs from the approved value");
        Decision d = service.decide(toLaptop("attested"));
        assertThat(d.effect()).isEqualTo(Effect.DENY);
        assertThat(d.reason()).contains("PCR 23 differs");
    }

    @Test
    void blobNotSignedByTheItCenterIsNeverUsed() {
        // e.g. written with seal:put by someone who can reach the console
        storage.put(NAME, signer.sign(Fixtures.POLICY, Fixtures.LEVELS, OTHER).jws().getBytes(StandardCharsets.US_ASCII));
        Decision d = service.decide(toLaptop("attested"));
        assertThat(d.effect()).isEqualTo(Effect.DENY);
        assertThat(d.reason()).contains("cannot be used");
        assertThat(service.list()).isEmpty();
        storage.put("policy.other", "not a jws".getBytes(StandardCharsets.US_ASCII));
        assertThat(service.list()).isEmpty();
    }

    @Test
    void decideByNameAmbiguityIsDeny() {
        service.importPolicy(signed(3));
        String twin = signer.sign(Fixtures.POLICY.replace(Fixtures.UUID, "11111111-2222-3333-4444-555555555555"),
                Fixtures.LEVELS, IT_CENTER).jws();
        service.importPolicy(twin);
        assertThat(service.list()).hasSize(2);
        Decision d = service.decide(new DecisionRequest(Direction.OUT, "alice-desktop", "alice", null,
                Device.of("alice-laptop", "attested"), NOW));
        assertThat(d.effect()).isEqualTo(Effect.DENY);
        assertThat(d.reason()).contains("give its UUID");
        assertThat(service.decide(toLaptop("attested")).effect()).isEqualTo(Effect.ALLOW);
    }

    @Test
    void configuredKeyFromPem() {
        PolicyServiceConfig config = new PolicyServiceConfig() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return PolicyServiceConfig.class;
            }

            @Override
            public String itcenter_key_file() {
                return "/nonexistent/key.pem";
            }

            @Override
            public String itcenter_key_pem() {
                return Pem.encode((ECPublicKey) IT_CENTER.getPublic());
            }

            @Override
            public String security_levels() {
                return "untrusted, basic, measured, attested";
            }
        };
        SealedPolicyService configured = new SealedPolicyService(config, storage);
        assertThat(configured.importPolicy(signed(3)).policy().version()).isEqualTo(3);
    }
}
