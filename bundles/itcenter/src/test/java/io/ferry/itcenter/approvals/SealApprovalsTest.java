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
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
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
import io.ferry.itcenter.attestation.ProvedPcrs;
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

    // ---- approvals the agent asks for over REST: only what its latest verdict proved ----------------------

    /** Records a verdict for the agent as AttestationService does; {@code pcrs} null when not genuine. */
    private void verdict(String level, boolean genuine, Instant at, Pcr... pcrs) {
        store.transaction(t -> {
            try (PreparedStatement ps = t.connection().prepareStatement("INSERT INTO attestation (at, agent_id, "
                    + "requester, peer, level, genuine, required_level, qualifies, result, pcrs) "
                    + "VALUES (?, ?, ?, FALSE, ?, ?, NULL, TRUE, '{}', ?)")) {
                ps.setObject(1, at.atOffset(ZoneOffset.UTC));
                ps.setString(2, agentId);
                ps.setString(3, agentId);
                ps.setString(4, level);
                ps.setBoolean(5, genuine);
                ps.setString(6, genuine ? ProvedPcrs.format(List.of(pcrs)) : null);
                ps.executeUpdate();
            }
            return null;
        });
    }

    private List<String> refusals() {
        return itCenter.audit(new AuditQuery(agentId, null, "approval.refused", null, 100)).stream()
                .map(e -> e.detail()).toList();
    }

    @Test
    void theAgentGetsAnApprovalForExactlyWhatItsLatestVerdictProvedWithRisingVersions() throws Exception {
        verdict("trusted", true, Instant.now(), new Pcr(15, filled(9)), new Pcr(23, filled(1)));
        Approval first = approvals.approveAttested(agentId, request(0, 1), "agent:" + agentId);
        assertThat(first.pcrs()).containsExactly(new Pcr(23, filled(1)));
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initVerify(publicKey());
        s.update(request(0, 1).signedMessage(first.version()));
        assertThat(s.verify(first.signature())).isTrue();
        // after an update: a new verdict proves the new value; the approval's version is above every earlier one
        long console = approvals.approve(agentId, request(5, 1), "console:admin").version();
        verdict("trusted", true, Instant.now(), new Pcr(23, filled(2)));
        Approval second = approvals.approveAttested(agentId, request(0, 2), "agent:" + agentId);
        assertThat(second.version()).isGreaterThan(console).isGreaterThan(first.version());
        assertThat(approvals.approveAttested(agentId, request(40, 2), "agent:" + agentId).version()).isEqualTo(41);
        assertThat(itCenter.audit(new AuditQuery(agentId, null, "approval.issued", null, 100)))
                .filteredOn(e -> e.detail().contains("proved by attestation #")).hasSize(3);
        assertThat(refusals()).isEmpty();
    }

    @Test
    void pcrValuesTheLatestVerdictDidNotProveAreRefusedAndAudited() {
        assertThatThrownBy(() -> approvals.approveAttested(agentId, request(0, 1), "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("never attested");
        verdict("trusted", true, Instant.now(), new Pcr(23, filled(1)));
        // another value than the one proved (e.g. an update the IT center never saw attested)
        assertThatThrownBy(() -> approvals.approveAttested(agentId, request(0, 2), "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("is not what its latest verdict");
        // a PCR the quote did not cover
        ApprovalRequest withBoot = new ApprovalRequest(List.of(new Pcr(0, filled(0)), new Pcr(23, filled(1))),
                0x01800100, filled(7), 0);
        assertThatThrownBy(() -> approvals.approveAttested(agentId, withBoot, "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("did not quote PCR 0");
        // an older verdict proved it, the latest did not: only the latest counts
        verdict("trusted", true, Instant.now(), new Pcr(23, filled(3)));
        assertThatThrownBy(() -> approvals.approveAttested(agentId, request(0, 1), "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("not what its latest verdict");
        // not genuine, below the level, too old
        verdict("untrusted", false, Instant.now());
        assertThatThrownBy(() -> approvals.approveAttested(agentId, request(0, 3), "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("not genuine");
        verdict("measured", true, Instant.now(), new Pcr(23, filled(3)));
        assertThatThrownBy(() -> approvals.approveAttested(agentId, request(0, 3), "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("below trusted");
        verdict("trusted", true, Instant.now().minus(Duration.ofMinutes(11)), new Pcr(23, filled(3)));
        assertThatThrownBy(() -> approvals.approveAttested(agentId, request(0, 3), "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("older than 10 minutes");
        assertThat(refusals()).hasSize(7);
        assertThat(itCenter.audit(new AuditQuery(agentId, null, "approval.issued", null, 100))).isEmpty();
    }

    @Test
    void anUnknownOrRevokedAgentGetsNothingAndNoAttestationNoApproval() {
        assertThatThrownBy(() -> approvals.approveAttested("no-such-agent", request(0, 1), "a"))
                .isInstanceOf(ItCenterException.class)
                .satisfies(e -> assertThat(((ItCenterException) e).reason()).isEqualTo(ItCenterException.Reason.NOT_FOUND));
        verdict("trusted", true, Instant.now(), new Pcr(23, filled(1)));
        SealApprovals withoutAttestation = new SealApprovals(store, itCenter,
                ApprovalKey.openOrCreate(dir.resolve("approval/key.pem")), Clock.systemUTC(), "trusted",
                Duration.ofMinutes(10), () -> null);
        assertThatThrownBy(() -> withoutAttestation.approveAttested(agentId, request(0, 1), "a"))
                .isInstanceOf(ItCenterException.class)
                .satisfies(e -> assertThat(((ItCenterException) e).reason()).isEqualTo(ItCenterException.Reason.UNAVAILABLE));
        itCenter.revoke(agentId, "stolen", "a");
        assertThatThrownBy(() -> approvals.approveAttested(agentId, request(0, 1), "a"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("revoked")
                .satisfies(e -> assertThat(((ItCenterException) e).reason()).isEqualTo(ItCenterException.Reason.CONFLICT));
        assertThat(itCenter.audit(new AuditQuery(agentId, null, "approval.issued", null, 100))).isEmpty();
    }

    @Test
    void theRequestTextRoundTripsThroughTheParserTheRestPathAndTheConsoleShare() {
        ApprovalRequest r = new ApprovalRequest(List.of(new Pcr(0, filled(4)), new Pcr(23, filled(1))), 0x01800100,
                filled(7), 12);
        ApprovalRequest back = ApprovalRequest.parse("# from seal:request\n" + r.encode());
        assertThat(back.pcrs()).isEqualTo(r.pcrs());
        assertThat(back.counterIndex()).isEqualTo(0x01800100);
        assertThat(back.counterName()).isEqualTo(filled(7));
        assertThat(back.minimumVersion()).isEqualTo(12);
        assertThat(r.encode()).contains("counter.index: 0x01800100\n");
        assertThatThrownBy(() -> ApprovalRequest.parse("pcr.23: zz\ncounter.index: 1\ncounter.name: 00\nminimum.version: 1"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pcr.23");
        assertThatThrownBy(() -> ApprovalRequest.parse(r.encode().replaceAll("minimum.version.*\n", "")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minimum.version");
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
