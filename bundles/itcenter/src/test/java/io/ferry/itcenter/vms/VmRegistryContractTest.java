package io.ferry.itcenter.vms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.itcenter.AuditEvent;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.policy.PolicyException;
import io.ferry.api.policy.PolicyFormatException;
import io.ferry.api.policy.PublishedVm;
import io.ferry.api.policy.SignedPolicy;
import io.ferry.itcenter.internal.ItCenterTestAccess;
import io.ferry.itcenter.internal.Store;
import io.ferry.policy.internal.NimbusPolicySigner;

/** itcenter:publish-vm's service on each database back end (a subclass each). */
abstract class VmRegistryContractTest {

    static final String UUID = "3f6c1a52-8d2e-4c1b-9a7e-2b5d4e6f7a81";
    static final String DIGEST = "sha256:" + "ab".repeat(32);
    static final SecurityLevels LEVELS = SecurityLevels.DEFAULT;

    static String policy(String name, String uuid, long version, String digest) {
        return """
                ferry-policy: 1
                version: %d
                vm:
                  name: %s
                  uuid: %s
                  image-digest: %s
                owner: alice
                device-groups:
                  alice-devices: [alice-mid, alice-laptop]
                rules:
                  - id: owner-own-devices
                    effect: allow
                    direction: both
                    roles: [owner]
                    groups: [alice-devices]
                    min-target-level: measured
                """.formatted(version, name, uuid, digest);
    }

    @TempDir
    Path dir;

    final Clock clock = Clock.fixed(Instant.parse("2026-03-15T10:00:00Z"), ZoneOffset.UTC);
    final NimbusPolicySigner signer = new NimbusPolicySigner();
    Store store;
    ItCenter itc;
    PolicyKey key;
    VmRegistry registry;

    protected abstract String newDatabaseUrl() throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = ItCenterTestAccess.open(newDatabaseUrl());
        itc = ItCenterTestAccess.itCenter(store, clock);
        key = PolicyKey.openOrCreate(dir.resolve("policy/policy-key.p12"), dir.resolve("policy/policy-key.pass"),
                dir.resolve("policy/policy-key.pem"));
        registry = new VmRegistry(store, signer, key, LEVELS, clock);
    }

    @AfterEach
    void close() {
        store.close();
    }

    List<AuditEvent> published() {
        return itc.audit(new AuditQuery(null, null, VmRegistry.PUBLISHED, null, 100));
    }

    @Test
    void publishSignsRecordsAndAudits() {
        PublishedVm vm = registry.publish("alice-desktop", policy("alice-desktop", UUID, 1, DIGEST), DIGEST,
                "console:admin");
        assertThat(vm.name()).isEqualTo("alice-desktop");
        assertThat(vm.uuid()).isEqualTo(UUID);
        assertThat(vm.imageDigest()).isEqualTo(DIGEST);
        assertThat(vm.owner()).isEqualTo("alice");
        assertThat(vm.version()).isEqualTo(1);
        assertThat(vm.keyId()).isEqualTo(registry.policyKeyId());
        assertThat(vm.publishedBy()).isEqualTo("console:admin");
        // what an agent does with it: verify with the exported public key
        SignedPolicy verified = signer.verify(vm.jws(), LEVELS, (ECPublicKey) key.publicKey());
        assertThat(verified.document()).isEqualTo(policy("alice-desktop", UUID, 1, DIGEST));
        assertThat(registry.vms()).containsExactly(vm);
        assertThat(registry.vm("alice-desktop")).contains(vm);
        assertThat(registry.vm(UUID.toUpperCase())).contains(vm);
        assertThat(registry.vm("nobody")).isEmpty();
        assertThat(published()).singleElement().satisfies(e -> {
            assertThat(e.vm()).isEqualTo(UUID);
            assertThat(e.actor()).isEqualTo("console:admin");
            assertThat(e.detail()).contains("name=alice-desktop", "version=1", "image=" + DIGEST, "kid=" + vm.keyId());
        });
    }

    @Test
    void newerVersionReplacesAndKeepsHistory() {
        registry.publish("alice-desktop", policy("alice-desktop", UUID, 1, DIGEST), null, "a");
        String digest2 = "sha256:" + "cd".repeat(32);
        PublishedVm v2 = registry.publish("alice-desktop", policy("alice-desktop", UUID, 2, digest2), digest2, "a");
        assertThat(registry.vm(UUID)).contains(v2);
        assertThat(v2.imageDigest()).isEqualTo(digest2);
        assertThat(registry.history(UUID)).isEqualTo(2);
        assertThat(published()).hasSize(2).last().satisfies(e -> assertThat(e.detail()).contains("previous=1"));
    }

    @Test
    void sameDocumentAgainChangesNothing() {
        PublishedVm first = registry.publish("alice-desktop", policy("alice-desktop", UUID, 3, DIGEST), null, "a");
        PublishedVm again = registry.publish("alice-desktop", policy("alice-desktop", UUID, 3, DIGEST), null, "b");
        assertThat(again).isEqualTo(first);
        assertThat(published()).hasSize(1);
    }

    @Test
    void olderOrSameVersionWithAnotherDocumentIsRefused() {
        registry.publish("alice-desktop", policy("alice-desktop", UUID, 3, DIGEST), null, "a");
        assertThatThrownBy(() -> registry.publish("alice-desktop", policy("alice-desktop", UUID, 2, DIGEST), null, "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("holds version 3")
                .hasMessageContaining("publish version 4")
                .extracting(e -> ((ItCenterException) e).reason()).isEqualTo(ItCenterException.Reason.CONFLICT);
        String other = policy("alice-desktop", UUID, 3, DIGEST).replace("min-target-level: measured",
                "min-target-level: trusted");
        assertThatThrownBy(() -> registry.publish("alice-desktop", other, null, "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("holds version 3");
        assertThat(registry.vm(UUID).orElseThrow().version()).isEqualTo(3);
        assertThat(registry.history(UUID)).isEqualTo(1);
        assertThat(published()).hasSize(1);
    }

    @Test
    void nameMustMatchTheDocument() {
        assertThatThrownBy(() -> registry.publish("bob-vm", policy("alice-desktop", UUID, 1, DIGEST), null, "a"))
                .isInstanceOf(ItCenterException.class).hasMessage("the policy is for VM 'alice-desktop', not for 'bob-vm'");
        assertThat(registry.vms()).isEmpty();
        assertThat(published()).isEmpty();
    }

    @Test
    void imageMustBeTheOneThePolicyNames() {
        String other = "sha256:" + "ef".repeat(32);
        assertThatThrownBy(() -> registry.publish("alice-desktop", policy("alice-desktop", UUID, 1, DIGEST), other, "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("names image " + DIGEST)
                .hasMessageContaining("the image is " + other);
        assertThatThrownBy(() -> registry.publish("alice-desktop", policy("alice-desktop", UUID, 1, DIGEST), "md5:x",
                "a")).isInstanceOf(ItCenterException.class).hasMessageContaining("sha256:");
        assertThat(registry.vms()).isEmpty();
    }

    @Test
    void nameOfAnotherVmIsRefused() {
        registry.publish("alice-desktop", policy("alice-desktop", UUID, 1, DIGEST), null, "a");
        String twin = "11111111-2222-3333-4444-555555555555";
        assertThatThrownBy(() -> registry.publish("alice-desktop", policy("alice-desktop", twin, 1, DIGEST), null, "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("belongs to VM " + UUID)
                .extracting(e -> ((ItCenterException) e).reason()).isEqualTo(ItCenterException.Reason.CONFLICT);
        assertThat(registry.vms()).hasSize(1);
    }

    @Test
    void invalidDocumentIsRefusedWithEveryError() {
        String bad = policy("alice-desktop", UUID, 1, DIGEST).replace("effect: allow", "effect: permit")
                .replace("min-target-level: measured", "min-target-level: superb");
        assertThatThrownBy(() -> registry.publish("alice-desktop", bad, null, "a"))
                .isInstanceOf(PolicyFormatException.class).hasMessageContaining("2 errors")
                .hasMessageContaining("rules[0].effect").hasMessageContaining("unknown security level 'superb'");
        assertThat(registry.vms()).isEmpty();
        assertThat(published()).isEmpty();
    }

    @Test
    void theKeyIsKeptOwnerOnlyAndExportedForAgents() throws Exception {
        Path p12 = dir.resolve("policy/policy-key.p12");
        assertThat(Files.getPosixFilePermissions(p12)).isEqualTo(Set.of(PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE));
        assertThat(Files.getPosixFilePermissions(dir.resolve("policy/policy-key.pass")))
                .doesNotContain(PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);
        String pem = Files.readString(dir.resolve("policy/policy-key.pem"), StandardCharsets.US_ASCII);
        assertThat(pem).startsWith("-----BEGIN PUBLIC KEY-----").isEqualTo(registry.policyKeyPem());
        // the same key again after a restart: policies signed before still verify
        PublishedVm vm = registry.publish("alice-desktop", policy("alice-desktop", UUID, 1, DIGEST), null, "a");
        PolicyKey reopened = PolicyKey.openOrCreate(p12, dir.resolve("policy/policy-key.pass"),
                dir.resolve("policy/policy-key.pem"));
        assertThat(reopened.publicPem()).isEqualTo(pem);
        assertThat(new VmRegistry(store, signer, reopened, LEVELS, clock).policyKeyId()).isEqualTo(vm.keyId());
        // another IT center's key does not verify this one's policies
        PolicyKey foreign = PolicyKey.openOrCreate(dir.resolve("other/k.p12"), dir.resolve("other/k.pass"),
                dir.resolve("other/k.pem"));
        assertThatThrownBy(() -> signer.verify(vm.jws(), LEVELS, foreign.publicKey()))
                .isInstanceOf(PolicyException.class)
                .extracting(e -> ((PolicyException) e).reason()).isEqualTo(PolicyException.Reason.WRONG_KEY);
    }

    @Test
    void wrongPassphraseIsAClearError() throws Exception {
        Files.writeString(dir.resolve("policy/policy-key.pass"), "not-the-passphrase");
        assertThatThrownBy(() -> PolicyKey.openOrCreate(dir.resolve("policy/policy-key.p12"),
                dir.resolve("policy/policy-key.pass"), dir.resolve("policy/policy-key.pem")))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("policy-key.p12");
    }
}
