package io.ferry.policy.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.time.Instant;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.policy.Decision;
import io.ferry.api.policy.DecisionRequest;
import io.ferry.api.policy.Device;
import io.ferry.api.policy.Direction;
import io.ferry.api.policy.Effect;
import io.ferry.api.policy.Policy;
import io.ferry.api.policy.PolicyException;
import io.ferry.api.policy.PolicyException.Reason;
import io.ferry.seal.testing.MemorySealStorage;

/** Cases the tables of the other tests do not cover: conflicts between allows, role denies, time and versions. */
class MoreCasesTest {

    static final KeyPair KEY = Fixtures.p256();
    static final Instant NOW = Instant.parse("2026-03-15T10:00:00Z");
    static final String UUID = "3f6c1a52-8d2e-4c1b-9a7e-2b5d4e6f7a81";

    final NimbusPolicySigner signer = new NimbusPolicySigner();
    final MemorySealStorage storage = new MemorySealStorage();
    final SealedPolicyService service = new SealedPolicyService(storage, Fixtures.LEVELS, KEY.getPublic());

    static String doc(long version, String owner, String valid, String rules) {
        return """
                ferry-policy: 1
                version: %d
                vm:
                  name: shared-vm
                  uuid: %s
                  image-digest: sha256:%s
                owner: %s
                roles:
                  family: [bob, carol]
                  interns: [carol]
                device-groups:
                  home: [home-pc, alice-laptop]
                %srules:
                %s""".formatted(version, UUID, "ab".repeat(32), owner, valid, rules);
    }

    static Decision decide(String document, String user, Device target, Instant at) {
        Policy p = PolicyParser.parse(document, Fixtures.LEVELS);
        return Evaluator.decide(p, new DecisionRequest(Direction.OUT, UUID, user, null, target, at), Fixtures.LEVELS);
    }

    static final String TWO_ALLOWS = """
              - id: family-home
                effect: allow
                direction: out
                roles: [family]
                groups: [home]
                min-target-level: measured
              - id: carol-anywhere-attested
                effect: allow
                direction: out
                users: [carol]
                devices: ["*"]
                min-target-level: attested
            """;

    @Test
    void twoMatchingAllowsNameTheFirstInDocumentOrder() {
        Decision d = decide(doc(1, "alice", "", TWO_ALLOWS), "carol", Device.of("home-pc", "attested"), NOW);
        assertThat(d.effect()).isEqualTo(Effect.ALLOW);
        assertThat(d.rule()).isEqualTo("family-home");
        assertThat(d.trace()).allSatisfy(t -> assertThat(t).endsWith(": matches"));
    }

    @Test
    void anAllowThatMissesOnLevelLetsTheOtherAllowDecide() {
        Decision d = decide(doc(1, "alice", "", TWO_ALLOWS), "carol", Device.of("office-pc", "attested"), NOW);
        assertThat(d.rule()).isEqualTo("carol-anywhere-attested");
        Decision low = decide(doc(1, "alice", "", TWO_ALLOWS), "carol", Device.of("office-pc", "measured"), NOW);
        assertThat(low.effect()).isEqualTo(Effect.DENY);
        assertThat(low.reason()).contains("closest: rule 'carol-anywhere-attested'");
    }

    @Test
    void aDenyForARoleBeatsAnAllowForItsMemberByName() {
        String rules = TWO_ALLOWS + """
                  - id: no-interns
                    effect: deny
                    direction: both
                    roles: [interns]
                    devices: ["*"]
                """;
        Decision carol = decide(doc(1, "alice", "", rules), "carol", Device.of("office-pc", "attested"), NOW);
        assertThat(carol.effect()).isEqualTo(Effect.DENY);
        assertThat(carol.rule()).isEqualTo("no-interns");
        assertThat(carol.reason()).contains("deny wins over rule 'carol-anywhere-attested'");
        Decision bob = decide(doc(1, "alice", "", rules), "bob", Device.of("home-pc", "measured"), NOW);
        assertThat(bob.rule()).isEqualTo("family-home");
    }

    @Test
    void aDenyForAGroupOfTheRequestBeatsAnAllowForTheSameDeviceByName() {
        String rules = """
                  - id: owner-laptop
                    effect: allow
                    direction: out
                    roles: [owner]
                    devices: [alice-laptop]
                  - id: quarantine
                    effect: deny
                    direction: out
                    users: ["*"]
                    groups: [quarantined]
                """;
        Device laptop = new Device("alice-laptop", Set.of("quarantined"), "attested");
        assertThat(decide(doc(1, "alice", "", rules), "alice", laptop, NOW).rule()).isEqualTo("quarantine");
        assertThat(decide(doc(1, "alice", "", rules), "alice", Device.of("alice-laptop", null), NOW).rule())
                .as("no minimum level: even an unattested device is allowed by this rule").isEqualTo("owner-laptop");
    }

    @Test
    void aNewVersionCanTransferOwnership() {
        String rules = """
                  - id: owner-home
                    effect: allow
                    direction: out
                    roles: [owner]
                    groups: [home]
                """;
        service.importPolicy(signer.sign(doc(1, "alice", "", rules), Fixtures.LEVELS, KEY).jws());
        DecisionRequest alice = new DecisionRequest(Direction.OUT, UUID, "alice", null, Device.of("home-pc", "basic"), NOW);
        DecisionRequest bob = new DecisionRequest(Direction.OUT, UUID, "bob", null, Device.of("home-pc", "basic"), NOW);
        assertThat(service.decide(alice).allowed()).isTrue();
        assertThat(service.decide(bob).allowed()).isFalse();
        service.importPolicy(signer.sign(doc(2, "bob", "", rules), Fixtures.LEVELS, KEY).jws());
        assertThat(service.decide(alice).allowed()).isFalse();
        assertThat(service.decide(bob).allowed()).isTrue();
        // and the old owner cannot bring the old policy back
        assertThatThrownBy(() -> service.importPolicy(signer.sign(doc(1, "alice", "", rules), Fixtures.LEVELS, KEY).jws()))
                .extracting(e -> ((PolicyException) e).reason()).isEqualTo(Reason.ROLLBACK);
    }

    static final String OWNER_ANYWHERE = """
              - id: owner-anywhere
                effect: allow
                direction: out
                roles: [owner]
                devices: ["*"]
            """;

    @Test
    void anExpiredPolicyIsStoredButAllowsNothing() {
        String expired = doc(1, "alice", "valid: {from: 2025-01-01T00:00:00Z, until: 2026-01-01T00:00:00Z}\n",
                OWNER_ANYWHERE);
        service.importPolicy(signer.sign(expired, Fixtures.LEVELS, KEY).jws());
        Decision d = service.decide(new DecisionRequest(Direction.OUT, UUID, "alice", null, Device.of("x", "attested"), NOW));
        assertThat(d.effect()).isEqualTo(Effect.DENY);
        assertThat(d.reason()).contains("expired at 2026-01-01T00:00:00Z");
        assertThat(d.version()).isEqualTo(1);
    }

    @Test
    void aNotYetValidPolicyAllowsFromItsStart() {
        String future = doc(1, "alice", "valid: {from: 2026-04-01T00:00:00Z}\n", OWNER_ANYWHERE);
        service.importPolicy(signer.sign(future, Fixtures.LEVELS, KEY).jws());
        Device x = Device.of("x", "attested");
        assertThat(service.decide(new DecisionRequest(Direction.OUT, UUID, "alice", null, x, NOW)).reason())
                .contains("is not valid before 2026-04-01T00:00:00Z");
        assertThat(service.decide(new DecisionRequest(Direction.OUT, UUID, "alice", null, x,
                Instant.parse("2026-04-01T00:00:00Z"))).allowed()).isTrue();
    }

    @Test
    void headerPayloadAndSignatureOfTwoGenuinePoliciesDoNotSplice() {
        String a = signer.sign(doc(1, "alice", "", OWNER_ANYWHERE), Fixtures.LEVELS, KEY).jws();
        String b = signer.sign(doc(2, "mallory", "", OWNER_ANYWHERE), Fixtures.LEVELS, KEY).jws();
        String[] pa = a.split("\\.");
        String[] pb = b.split("\\.");
        assertThatThrownBy(() -> service.importPolicy(pa[0] + "." + pb[1] + "." + pa[2]))
                .extracting(e -> ((PolicyException) e).reason()).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(storage.puts).isZero();
    }

    @Test
    void aSignedPolicyArrivingWithAnotherVmIsRefusedOnMigrateIn() {
        String jws = signer.sign(doc(1, "alice", "", OWNER_ANYWHERE), Fixtures.LEVELS, KEY).jws();
        assertThatThrownBy(() -> service.importPolicy(jws, "0b9f6a3e-8c1d-4e2f-9a7b-6c5d4e3f2a10"))
                .hasMessageContaining("is for VM 'shared-vm'")
                .extracting(e -> ((PolicyException) e).reason()).isEqualTo(Reason.WRONG_VM);
        assertThat(storage.puts).isZero();
    }

    @Test
    void aBlobReplacedAfterAGoodOneIsNotServedFromTheVerificationCache() {
        service.importPolicy(signer.sign(doc(1, "alice", "", OWNER_ANYWHERE), Fixtures.LEVELS, KEY).jws());
        DecisionRequest r = new DecisionRequest(Direction.OUT, UUID, "alice", null, Device.of("x", "attested"), NOW);
        assertThat(service.decide(r).allowed()).isTrue();
        assertThat(service.decide(r).allowed()).isTrue(); // from the cache
        // someone with console access replaces the sealed blob with a policy signed by another key
        storage.put("policy." + UUID, signer.sign(doc(7, "alice", "", OWNER_ANYWHERE), Fixtures.LEVELS,
                Fixtures.p256()).jws().getBytes(StandardCharsets.US_ASCII));
        Decision d = service.decide(r);
        assertThat(d.effect()).isEqualTo(Effect.DENY);
        assertThat(d.reason()).contains("cannot be used");
    }

    @TempDir
    Path dir;

    @Test
    void theItCenterKeyIsPickedUpWhenItIsInstalledLater() throws Exception {
        Path keyFile = dir.resolve("ferry-policy-key.pem");
        SealedPolicyService configured = new SealedPolicyService(new PolicyServiceConfig() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return PolicyServiceConfig.class;
            }

            @Override
            public String itcenter_key_file() {
                return keyFile.toString();
            }

            @Override
            public String itcenter_key_pem() {
                return "";
            }

            @Override
            public String security_levels() {
                return "untrusted, basic, measured, attested";
            }
        }, storage);
        String jws = signer.sign(doc(1, "alice", "", OWNER_ANYWHERE), Fixtures.LEVELS, KEY).jws();
        assertThatThrownBy(() -> configured.importPolicy(jws)).hasMessageContaining(keyFile + " does not exist")
                .extracting(e -> ((PolicyException) e).reason()).isEqualTo(Reason.NO_KEY);
        Files.writeString(keyFile, Pem.encode((ECPublicKey) KEY.getPublic()), StandardCharsets.US_ASCII);
        assertThat(configured.importPolicy(jws).policy().version()).isEqualTo(1);
    }
}
