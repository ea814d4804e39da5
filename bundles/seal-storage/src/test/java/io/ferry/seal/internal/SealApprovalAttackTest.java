package io.ferry.seal.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealException;
import io.ferry.api.tpm.Pcr;
import io.ferry.tpm.internal.TssTpm;
import io.ferry.tpm.testing.Swtpm;

/**
 * A genuine seal approval altered on its way to the agent (or on the agent's disk), against a real
 * swtpm: a flipped bit of the signature, a higher version claimed with the same signature, other PCR
 * values under the same signature. Each is refused and changes nothing; the untouched approval is
 * then accepted, so the refusal was the alteration. (Another key's approval and an older approval
 * are in {@link TpmSealStorageTest}.)
 */
class SealApprovalAttackTest {

    @RegisterExtension
    static final Swtpm SWTPM = new Swtpm();

    static final int PCR = 23;
    static int counterIndex = 0x01800300;

    @TempDir
    Path dir;
    TssTpm tpm;
    KeyPair itCenter;
    TpmSealStorage store;

    @BeforeEach
    void setUp() throws Exception {
        tpm = TssTpm.swtpm(SWTPM.host(), SWTPM.port());
        itCenter = TpmSealStorageTest.ec();
        counterIndex++;
        store = new TpmSealStorage(tpm, dir, itCenter.getPublic(), List.of(PCR), counterIndex);
        tpm.extendPcr(PCR, java.security.MessageDigest.getInstance("SHA-256").digest("hypervisor v1".getBytes()));
        store.approve(TpmSealStorageTest.sign(itCenter, store.approvalRequest(), store.approvalRequest().minimumVersion()));
        store.put("k", "v".getBytes());
        tpm.extendPcr(PCR, java.security.MessageDigest.getInstance("SHA-256").digest("update".getBytes()));
    }

    @AfterEach
    void tearDown() {
        tpm.close();
    }

    @Test
    void aGenuineApprovalAlteredInAnyPartIsRefusedAndTheUntouchedOneIsAccepted() throws Exception {
        ApprovalRequest req = store.approvalRequest();
        long version = req.minimumVersion() + 1;
        Approval genuine = TpmSealStorageTest.sign(itCenter, req, version);

        List<Approval> altered = new ArrayList<>();
        for (int i : new int[] { 8, genuine.signature().length / 2, genuine.signature().length - 1 }) {
            byte[] sig = genuine.signature().clone();
            sig[i] ^= 0x01;
            altered.add(new Approval(version, genuine.pcrs(), sig));
        }
        altered.add(new Approval(version + 5, genuine.pcrs(), genuine.signature()));
        byte[] otherValue = genuine.pcrs().get(0).value().clone();
        otherValue[0] ^= 0x01;
        altered.add(new Approval(version, List.of(new Pcr(PCR, otherValue)), genuine.signature()));

        Map<String, byte[]> before = files();
        for (Approval a : altered) {
            assertThatThrownBy(() -> store.approve(a)).isInstanceOf(SealException.class);
            assertUnchanged(before);
            assertThatThrownBy(() -> store.get("k")).isInstanceOf(SealException.class);
        }
        store.approve(genuine);
        assertThat(store.get("k")).isEqualTo("v".getBytes());
    }

    @Test
    void anInstalledApprovalAlteredOnDiskUnsealsNothing() throws Exception {
        ApprovalRequest req = store.approvalRequest();
        Approval genuine = TpmSealStorageTest.sign(itCenter, req, req.minimumVersion() + 1);
        store.approve(genuine);
        assertThat(store.get("k")).isEqualTo("v".getBytes());

        byte[] sig = genuine.signature().clone();
        sig[sig.length / 2] ^= 0x01;
        Files.write(dir.resolve("approval"), new Approval(genuine.version(), genuine.pcrs(), sig).toBytes());
        TpmSealStorage reopened = new TpmSealStorage(tpm, dir, itCenter.getPublic(), List.of(PCR), counterIndex);
        assertThatThrownBy(() -> reopened.get("k")).isInstanceOf(SealException.class);

        Files.write(dir.resolve("approval"), genuine.toBytes());
        TpmSealStorage restored = new TpmSealStorage(tpm, dir, itCenter.getPublic(), List.of(PCR), counterIndex);
        assertThat(restored.get("k")).isEqualTo("v".getBytes());
    }

    private Map<String, byte[]> files() throws Exception {
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).collect(java.util.stream.Collectors.toMap(
                    p -> dir.relativize(p).toString(), p -> {
                        try {
                            return Files.readAllBytes(p);
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }));
        }
    }

    private void assertUnchanged(Map<String, byte[]> before) throws Exception {
        Map<String, byte[]> after = files();
        assertThat(after.keySet()).isEqualTo(before.keySet());
        before.forEach((k, v) -> assertThat(after.get(k)).as(k).isEqualTo(v));
    }
}
