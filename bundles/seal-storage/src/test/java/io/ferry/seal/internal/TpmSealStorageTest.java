package io.ferry.seal.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealException;
import io.ferry.api.seal.SealException.Reason;
import io.ferry.api.tpm.PolicyDigests;
import io.ferry.tpm.internal.TssTpm;
import io.ferry.tpm.testing.Swtpm;

/** Seal storage against a real swtpm of its own, one fresh TPM connection and store per test. */
class TpmSealStorageTest {

    @RegisterExtension
    static final Swtpm SWTPM = new Swtpm();

    static final int PCR = 23;
    static int counterIndex = 0x01800200;

    @TempDir
    Path dir;
    TssTpm tpm;
    KeyPair itCenter;
    TpmSealStorage store;

    @BeforeEach
    void setUp() throws Exception {
        tpm = TssTpm.swtpm(SWTPM.host(), SWTPM.port());
        itCenter = ec();
        counterIndex++; // a counter of its own for every test
        store = new TpmSealStorage(tpm, dir, itCenter.getPublic(), List.of(PCR), counterIndex);
        measure("hypervisor v1");
        store.approve(sign(itCenter, store.approvalRequest(), store.approvalRequest().minimumVersion()));
    }

    @AfterEach
    void tearDown() {
        tpm.close();
    }

    static KeyPair ec() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    void measure(String component) throws Exception {
        tpm.extendPcr(PCR, MessageDigest.getInstance("SHA-256").digest(component.getBytes()));
    }

    static Approval sign(KeyPair key, ApprovalRequest request, long version) throws Exception {
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(key.getPrivate());
        s.update(request.signedMessage(version));
        return new Approval(version, request.pcrs(), s.sign());
    }

    Map<String, byte[]> files() throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).collect(Collectors.toMap(p -> dir.relativize(p).toString(),
                    p -> { try { return Files.readAllBytes(p); } catch (Exception e) { throw new RuntimeException(e); } }));
        }
    }

    void assertUnchanged(Map<String, byte[]> before) throws Exception {
        Map<String, byte[]> after = files();
        assertThat(after.keySet()).isEqualTo(before.keySet());
        before.forEach((k, v) -> assertThat(after.get(k)).as(k).isEqualTo(v));
    }

    static Function<Throwable, Reason> reason = t -> ((SealException) t).reason();

    @Test
    void sealsAndUnsealsSecretsOfAnySize() throws Exception {
        byte[] big = new byte[1 << 20];
        new java.util.Random(1).nextBytes(big);
        store.put("agent-tls-key", "private key".getBytes());
        store.put("big", big);
        store.put("empty", new byte[0]);
        assertThat(store.get("agent-tls-key")).isEqualTo("private key".getBytes());
        assertThat(store.get("big")).isEqualTo(big);
        assertThat(store.get("empty")).isEmpty();
        assertThat(store.list()).containsExactly("agent-tls-key", "big", "empty");
        store.put("agent-tls-key", "new key".getBytes());
        assertThat(store.get("agent-tls-key")).isEqualTo("new key".getBytes());
        assertThat(store.delete("big")).isTrue();
        assertThat(store.list()).containsExactly("agent-tls-key", "empty");
        var st = store.status();
        assertThat(st.unsealable()).isTrue();
        assertThat(st.secrets()).isEqualTo(2);
        assertThat(st.pcrs()).containsExactly(PCR);
        assertThat(st.kekGeneration()).isEqualTo(1);
        // the sealed KEK, the approval and the blobs never hold the secret in clear
        assertThat(new String(files().get("secrets/agent-tls-key.blob"))).doesNotContain("new key");
    }

    @Test
    void pcrChangeRefusesUntilANewApprovalWhichUnsealsWithoutResealing() throws Exception {
        store.put("k", "v".getBytes());
        byte[] kekBefore = files().get("kek-1.sealed");
        measure("unapproved change");
        Map<String, byte[]> before = files();
        assertThatThrownBy(() -> store.get("k")).isInstanceOf(SealException.class)
                .extracting(reason).isEqualTo(Reason.PCR_MISMATCH);
        assertThatThrownBy(() -> store.get("k")).hasMessageContaining("PCR 23").hasMessageContaining("get 'k'");
        assertThat(store.status().unsealable()).isFalse();
        assertUnchanged(before);

        ApprovalRequest req = store.approvalRequest();
        Approval v2 = sign(itCenter, req, req.minimumVersion() + 1);
        store.approve(v2);
        assertThat(store.get("k")).isEqualTo("v".getBytes());
        assertThat(files().get("kek-1.sealed")).isEqualTo(kekBefore); // not re-sealed
        assertThat(store.status().approvalVersion()).isEqualTo(v2.version());
        assertThat(store.status().counterValue()).isEqualTo(v2.version());
    }

    @Test
    void anOlderApprovalIsRefusedEvenForTheCurrentPcrValuesAndEvenByTheTpm() throws Exception {
        store.put("k", "v".getBytes());
        ApprovalRequest req = store.approvalRequest();
        Approval old = sign(itCenter, req, req.minimumVersion());
        store.approve(sign(itCenter, req, req.minimumVersion() + 2));
        Map<String, byte[]> before = files();
        assertThatThrownBy(() -> store.approve(old)).isInstanceOf(SealException.class)
                .hasMessageContaining("older than the newest seen").extracting(reason)
                .isEqualTo(Reason.APPROVAL_ROLLBACK);
        assertUnchanged(before);
        // restoring the old approval file by hand does not help: refused, and by the TPM too
        Files.write(dir.resolve("approval"), old.toBytes());
        assertThatThrownBy(() -> store.get("k")).extracting(reason).isEqualTo(Reason.APPROVAL_ROLLBACK);
        byte[] operand = PolicyDigests.counterOperand(old.version());
        assertThatThrownBy(() -> tpm.unseal(io.ferry.api.tpm.KeyBlob.fromBytes(java.util.Arrays.copyOfRange(
                before.get("kek-1.sealed"), 8 + 2 + 34, before.get("kek-1.sealed").length)), List.of(
                new io.ferry.api.tpm.PolicyStep.PolicyPcr(List.of(PCR)),
                new io.ferry.api.tpm.PolicyStep.PolicyNv(counterIndex, operand,
                        io.ferry.api.tpm.PolicyStep.NvComparison.UNSIGNED_LE),
                new io.ferry.api.tpm.PolicyStep.PolicyAuthorize(itCenter.getPublic(),
                        io.ferry.api.seal.Approvals.POLICY_REF, io.ferry.api.seal.Approvals.approvedPolicy(
                                old.pcrs(), req.counterName(), old.version()), old.signature()))))
                .isInstanceOf(io.ferry.api.tpm.TpmPolicyException.class).hasMessageContaining("PolicyNV");
    }

    @Test
    void anApprovalByAnotherKeyIsRefused() throws Exception {
        store.put("k", "v".getBytes());
        measure("update");
        ApprovalRequest req = store.approvalRequest();
        Map<String, byte[]> before = files();
        assertThatThrownBy(() -> store.approve(sign(ec(), req, req.minimumVersion() + 1)))
                .isInstanceOf(SealException.class).hasMessageContaining("not signed by the configured approval key")
                .extracting(reason).isEqualTo(Reason.APPROVAL_KEY);
        assertUnchanged(before);
        // a store configured with another key cannot use a KEK sealed to the first one
        KeyPair other = ec();
        TpmSealStorage wrongKey = new TpmSealStorage(tpm, dir, other.getPublic(), List.of(PCR), counterIndex);
        Files.write(dir.resolve("approval"), sign(other, req, req.minimumVersion() + 1).toBytes());
        assertThatThrownBy(() -> wrongKey.get("k")).extracting(reason).isEqualTo(Reason.APPROVAL_KEY);
    }

    @Test
    void corruptTruncatedAndSwappedBlobsAreRefusedWhole() throws Exception {
        store.put("a", "secret a".getBytes());
        store.put("b", "secret b".getBytes());
        Path a = dir.resolve("secrets/a.blob");
        Path b = dir.resolve("secrets/b.blob");
        byte[] good = Files.readAllBytes(a);

        byte[] flipped = good.clone();
        flipped[flipped.length - 20] ^= 1;
        Files.write(a, flipped);
        assertThatThrownBy(() -> store.get("a")).extracting(reason).isEqualTo(Reason.CORRUPT_BLOB);
        assertThatThrownBy(() -> store.get("a")).hasMessageContaining("does not authenticate");

        byte[] header = good.clone();
        header[12] ^= 1; // the KEK generation / version in the header is authenticated too
        Files.write(a, header);
        assertThatThrownBy(() -> store.get("a")).isInstanceOf(SealException.class);

        Files.write(a, java.util.Arrays.copyOf(good, 20));
        assertThatThrownBy(() -> store.get("a")).extracting(reason).isEqualTo(Reason.CORRUPT_BLOB);
        assertThatThrownBy(() -> store.get("a")).hasMessageContaining("truncated");
        Files.write(a, java.util.Arrays.copyOf(good, good.length - 1));
        assertThatThrownBy(() -> store.get("a")).extracting(reason).isEqualTo(Reason.CORRUPT_BLOB);

        Files.write(a, Files.readAllBytes(b));
        assertThatThrownBy(() -> store.get("a")).extracting(reason).isEqualTo(Reason.SWAPPED_BLOB);
        assertThatThrownBy(() -> store.get("a")).hasMessageContaining("holds the secret 'b'");

        Files.write(a, good);
        assertThat(store.get("a")).isEqualTo("secret a".getBytes());
        assertThat(store.get("b")).isEqualTo("secret b".getBytes());
    }

    @Test
    void wrongNamesAreRefused() {
        assertThatThrownBy(() -> store.get("nope")).extracting(reason).isEqualTo(Reason.NO_SUCH_SECRET);
        assertThatThrownBy(() -> store.get("nope")).hasMessageContaining("get 'nope'");
        for (String bad : List.of("", "../etc/passwd", ".hidden", "a/b", "x".repeat(129))) {
            assertThatThrownBy(() -> store.put(bad, new byte[1])).extracting(reason).isEqualTo(Reason.INVALID_INPUT);
        }
    }

    @Test
    void rotationReencryptsEverythingUnderANewKek() throws Exception {
        store.put("a", "1".getBytes());
        store.put("b", "2".getBytes());
        measure("update");
        ApprovalRequest req = store.approvalRequest();
        store.rotate(sign(itCenter, req, req.minimumVersion() + 1));
        assertThat(files().keySet()).contains("kek-2.sealed").doesNotContain("kek-1.sealed");
        assertThat(store.get("a")).isEqualTo("1".getBytes());
        assertThat(store.get("b")).isEqualTo("2".getBytes());
        assertThat(store.status().kekGeneration()).isEqualTo(2);
    }

    @Test
    void tpmRestartGivesAClearErrorThenRecovers() throws Exception {
        // start from a freshly booted TPM (PCRs at zero), measured and approved the way an agent starts
        tpm.release();
        SWTPM.kill();
        SWTPM.restart();
        measure("hypervisor v1");
        ApprovalRequest req = store.approvalRequest();
        store.approve(sign(itCenter, req, req.minimumVersion() + 1));
        store.put("k", "v".getBytes());
        Map<String, byte[]> before = files();
        SWTPM.kill();
        assertThatThrownBy(() -> store.get("k")).extracting(reason).isEqualTo(Reason.TPM_UNAVAILABLE);
        assertThatThrownBy(() -> store.get("k")).hasMessageContaining("swtpm tcp 127.0.0.1:" + SWTPM.port());
        SWTPM.restart();
        // the restart reset the PCRs: refused until the agent measures the same components again
        assertThatThrownBy(() -> store.get("k")).extracting(reason).isEqualTo(Reason.PCR_MISMATCH);
        measure("hypervisor v1");
        assertThat(store.get("k")).isEqualTo("v".getBytes());
        assertUnchanged(before);
    }
}
