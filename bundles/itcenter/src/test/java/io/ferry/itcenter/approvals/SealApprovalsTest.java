package io.ferry.itcenter.approvals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.util.List;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.itcenter.AgentRegistration;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.tpm.Pcr;
import io.ferry.itcenter.internal.ItCenterTestAccess;
import io.ferry.itcenter.internal.Store;

class SealApprovalsTest {

    @TempDir
    Path dir;

    private Store store;
    private ItCenter itCenter;
    private SealApprovals approvals;
    private String agentId;

    @BeforeEach
    void open() throws Exception {
        store = ItCenterTestAccess.open("jdbc:h2:file:" + dir.resolve("db").toAbsolutePath());
        itCenter = ItCenterTestAccess.itCenter(store, Clock.systemUTC());
        approvals = new SealApprovals(store, itCenter, ApprovalKey.openOrCreate(dir.resolve("approval/key.pem")),
                Clock.systemUTC());
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        java.io.StringWriter pem = new java.io.StringWriter();
        try (org.bouncycastle.openssl.jcajce.JcaPEMWriter w = new org.bouncycastle.openssl.jcajce.JcaPEMWriter(pem)) {
            w.writeObject(g.generateKeyPair().getPublic());
        }
        agentId = itCenter.registerAgent(new AgentRegistration("laptop", "alice", "alice-devices", pem.toString()),
                "test").agent().id();
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void anEnrolledAgentIsTrackedByIdWhateverNameTheRequestUses() {
        long byName = approvals.approve("laptop", request(0, 1), "a").version();
        assertThat(approvals.approve(agentId, request(0, 2), "a").version()).isGreaterThan(byName);
    }

    private static ApprovalRequest request(long minimum, int pcr23) {
        return new ApprovalRequest(List.of(new Pcr(23, filled(pcr23))), 0x01800100, filled(7), minimum);
    }

    private static byte[] filled(int b) {
        byte[] v = new byte[32];
        java.util.Arrays.fill(v, (byte) b);
        return v;
    }

    private PublicKey publicKey() throws Exception {
        try (PEMParser p = new PEMParser(new StringReader(approvals.publicKeyPem()))) {
            return new JcaPEMKeyConverter().getPublicKey((SubjectPublicKeyInfo) p.readObject());
        }
    }

    @Test
    void anApprovalVerifiesWithThePublishedKeyOverExactlyWhatSealStorageChecks() throws Exception {
        ApprovalRequest r = request(3, 1);
        Approval a = approvals.approve("laptop", r, "console:admin");
        assertThat(a.version()).isEqualTo(4);
        assertThat(a.pcrs()).isEqualTo(r.pcrs());
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initVerify(publicKey());
        s.update(r.signedMessage(a.version()));
        assertThat(s.verify(a.signature())).isTrue();
        s.initVerify(publicKey());
        s.update(request(3, 2).signedMessage(a.version()));
        assertThat(s.verify(a.signature())).as("another PCR value").isFalse();
        assertThat(Approval.parse(a.encode()).version()).isEqualTo(4);
    }

    @Test
    void everyNewApprovalOfAnAgentHasAHigherVersionThanAllEarlierOnes() {
        long first = approvals.approve(agentId, request(0, 1), "a").version();
        long second = approvals.approve(agentId, request(0, 2), "a").version();
        long third = approvals.approve(agentId, request(10, 3), "a").version();
        assertThat(second).isGreaterThan(first);
        assertThat(third).isGreaterThan(10).isGreaterThan(second);
        assertThat(itCenter.audit(new AuditQuery(agentId, null, "approval.issued", null, 100)))
                .hasSize(3).allSatisfy(e -> assertThat(e.detail()).contains("23="));
    }

    @Test
    void aDeviceNotEnrolledYetIsApprovedByNameAndRevokedAgentsGetNothing() {
        assertThat(approvals.approve("new-device", request(0, 1), "a").version()).isEqualTo(1);
        assertThat(approvals.approve("new-device", request(0, 2), "a").version()).isEqualTo(2);
        assertThatThrownBy(() -> approvals.approve("bad name!", request(0, 1), "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("not a device");
        itCenter.revoke(agentId, "stolen", "a");
        assertThatThrownBy(() -> approvals.approve(agentId, request(0, 1), "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("revoked");
    }

    @Test
    void theKeyIsMadeOnceOwnerOnlyAndKeptAcrossRestarts() throws Exception {
        Path file = dir.resolve("approval/key.pem");
        assertThat(Files.getPosixFilePermissions(file)).containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE);
        String pem = approvals.publicKeyPem();
        assertThat(ApprovalKey.openOrCreate(file).publicKeyPem()).isEqualTo(pem);
    }
}
