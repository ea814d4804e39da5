package io.ferry.tpm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.ferry.api.tpm.KeyBlob;
import io.ferry.api.tpm.NvCounter;
import io.ferry.api.tpm.Pcr;
import io.ferry.api.tpm.PolicyDigests;
import io.ferry.api.tpm.PolicyStep;
import io.ferry.api.tpm.Quote;
import io.ferry.api.tpm.TpmPolicyException;
import io.ferry.api.tpm.TpmPublic;
import io.ferry.api.tpm.TpmUnavailableException;
import io.ferry.tpm.testing.Swtpm;
import tss.Tss;
import tss.tpm.TPMT_PUBLIC;

/** The Tpm service against a real swtpm of its own; cross-checked with tpm2-tools. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TssTpmTest {

    @RegisterExtension
    static final Swtpm SWTPM = new Swtpm();

    static final int PCR = 23;
    static final int COUNTER = 0x01800100;
    static final byte[] REF = "ferry-test".getBytes();

    static TssTpm tpm;

    @BeforeAll
    static void connect() {
        tpm = TssTpm.swtpm(SWTPM.host(), SWTPM.port());
    }

    @AfterAll
    static void shutdown() {
        if (tpm != null) {
            tpm.close();
        }
    }

    static byte[] sha256(byte[]... parts) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (byte[] p : parts) {
            md.update(p);
        }
        return md.digest();
    }

    @Test
    @Order(1)
    void infoNamesTheDevice() {
        assertThat(tpm.info().device()).isEqualTo("swtpm tcp 127.0.0.1:" + SWTPM.port());
        assertThat(tpm.info().manufacturer()).isEqualTo("IBM");
    }

    @Test
    @Order(2)
    void extendComputesSha256OfOldAndDigest() throws Exception {
        byte[] old = tpm.readPcrs(PCR).get(0).value();
        byte[] d = sha256("component".getBytes());
        Pcr now = tpm.extendPcr(PCR, d);
        assertThat(now.value()).isEqualTo(sha256(old, d));
        assertThat(tpm.readPcrs(16, PCR)).extracting(Pcr::index).containsExactly(16, PCR);
        assertThatThrownBy(() -> tpm.extendPcr(PCR, new byte[5])).hasMessageContaining("32 bytes");
        assertThatThrownBy(() -> tpm.readPcrs(24)).hasMessageContaining("no PCR 24");
    }

    @Test
    @Order(3)
    void sealToPcrsUnsealsUntilThePcrChanges() throws Exception {
        byte[] secret = "thirty-two bytes of key material".getBytes();
        KeyBlob sealed = tpm.seal(secret, PolicyDigests.pcr(PolicyDigests.empty(), tpm.readPcrs(PCR)));
        List<PolicyStep> policy = List.of(new PolicyStep.PolicyPcr(List.of(PCR)));
        assertThat(tpm.unseal(sealed, policy)).isEqualTo(secret);
        tpm.extendPcr(PCR, sha256("update".getBytes()));
        assertThatThrownBy(() -> tpm.unseal(sealed, policy)).isInstanceOf(TpmPolicyException.class)
                .hasMessageContaining("unseal");
        assertThatThrownBy(() -> tpm.unseal(sealed, List.of())).isInstanceOf(TpmPolicyException.class);
    }

    @Test
    @Order(4)
    void policyAuthorizeWithCounterAcceptsOnlyCurrentApprovals() throws Exception {
        for (String alg : List.of("EC", "RSA")) {
            KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
            g.initialize(alg.equals("EC") ? 256 : 2048);
            KeyPair approver = g.generateKeyPair();
            NvCounter counter = tpm.counter(COUNTER);
            byte[] secret = ("secret for " + alg).getBytes();
            KeyBlob sealed = tpm.seal(secret, PolicyDigests.authorize(tpm.nameOf(approver.getPublic()), REF));

            long v1 = counter.value();
            List<PolicyStep> approval1 = approval(approver, tpm.readPcrs(PCR), counter.name(), v1);
            assertThat(tpm.unseal(sealed, approval1)).isEqualTo(secret);

            // a new PCR value needs a new approval; the same blob unseals with it
            tpm.extendPcr(PCR, sha256(alg.getBytes()));
            assertThatThrownBy(() -> tpm.unseal(sealed, approval1)).isInstanceOf(TpmPolicyException.class);
            NvCounter bumped = tpm.incrementCounter(COUNTER);
            List<PolicyStep> approval2 = approval(approver, tpm.readPcrs(PCR), bumped.name(), bumped.value());
            assertThat(tpm.unseal(sealed, approval2)).isEqualTo(secret);

            // an old approval for the current PCR values is refused by the TPM once the counter moved on
            List<PolicyStep> old = approval(approver, tpm.readPcrs(PCR), bumped.name(), v1);
            assertThatThrownBy(() -> tpm.unseal(sealed, old)).isInstanceOf(TpmPolicyException.class)
                    .hasMessageContaining("PolicyNV");

            // another key's approval is refused
            KeyPair other = g.generateKeyPair();
            PolicyStep.PolicyAuthorize genuine = (PolicyStep.PolicyAuthorize) approval2.get(2);
            PolicyStep.PolicyAuthorize forged = (PolicyStep.PolicyAuthorize) approval(other, tpm.readPcrs(PCR),
                    bumped.name(), bumped.value()).get(2);
            assertThatThrownBy(() -> tpm.unseal(sealed, List.of(approval2.get(0), approval2.get(1),
                    new PolicyStep.PolicyAuthorize(approver.getPublic(), REF, genuine.approvedPolicy(),
                            forged.signature())))).isInstanceOf(TpmPolicyException.class)
                    .hasMessageContaining("VerifySignature");
            assertThatThrownBy(() -> tpm.unseal(sealed, List.of(approval2.get(0), approval2.get(1), forged)))
                    .isInstanceOf(TpmPolicyException.class);
        }
    }

    static List<PolicyStep> approval(KeyPair key, List<Pcr> pcrs, byte[] counterName, long version) throws Exception {
        byte[] operand = PolicyDigests.counterOperand(version);
        byte[] approved = PolicyDigests.nv(PolicyDigests.pcr(PolicyDigests.empty(), pcrs), counterName, operand,
                PolicyStep.NvComparison.UNSIGNED_LE);
        Signature s = Signature.getInstance(key.getPublic().getAlgorithm().equals("EC") ? "SHA256withECDSA"
                : "SHA256withRSA");
        s.initSign(key.getPrivate());
        s.update(approved);
        s.update(REF);
        return List.of(new PolicyStep.PolicyPcr(pcrs.stream().map(Pcr::index).toList()),
                new PolicyStep.PolicyNv(COUNTER, operand, PolicyStep.NvComparison.UNSIGNED_LE),
                new PolicyStep.PolicyAuthorize(key.getPublic(), REF, approved, s.sign()));
    }

    @Test
    @Order(5)
    void signingKeyCertifiedByTheAttestationKey() throws Exception {
        KeyBlob key = tpm.createSigningKey();
        byte[] digest = sha256("hello".getBytes());
        byte[] sig = tpm.sign(key, digest);
        Signature v = Signature.getInstance("SHA256withECDSA");
        v.initVerify(tpm.publicOf(key).key());
        v.update("hello".getBytes());
        assertThat(v.verify(sig)).isTrue();

        byte[] nonce = sha256("nonce".getBytes());
        var cert = tpm.certify(key, nonce);
        v.initVerify(tpm.attestationKey().key());
        v.update(cert.attest());
        assertThat(v.verify(cert.derSignature())).isTrue();
        // the attested name is the key's TPM name
        assertThat(HexFormat.of().formatHex(cert.attest()))
                .contains(HexFormat.of().formatHex(tpm.publicOf(key).name()))
                .contains(HexFormat.of().formatHex(nonce));
        assertThatThrownBy(() -> tpm.sign(new KeyBlob(key.publicArea(), new byte[] { 1, 2, 3 }), digest))
                .hasMessageContaining("refuses to load");
    }

    @Test
    @Order(6)
    void ekCertificateMatchesTheEndorsementKey() throws Exception {
        byte[] der = tpm.endorsementCertificate().orElseThrow();
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));
        assertThat(cert.getPublicKey()).isEqualTo(tpm.endorsementKey().key());
        assertThat(cert.getIssuerX500Principal().getName()).containsIgnoringCase("swtpm");
    }

    @Test
    @Order(7)
    void activateCredentialReturnsTheSecretBoundToTheAk() {
        TpmPublic ek = tpm.endorsementKey();
        TpmPublic ak = tpm.attestationKey();
        byte[] secret = "credential secret 123".getBytes();
        Tss.ActivationCredential c = Tss.createActivationCredential(TPMT_PUBLIC.fromBytes(ek.publicArea()),
                ak.name(), secret);
        assertThat(tpm.activateCredential(c.CredentialBlob.integrityHMAC, c.CredentialBlob.encIdentity, c.Secret)).isEqualTo(secret);
        Tss.ActivationCredential wrong = Tss.createActivationCredential(TPMT_PUBLIC.fromBytes(ek.publicArea()),
                tpm.storageRootKey().name(), secret);
        assertThatThrownBy(() -> tpm.activateCredential(wrong.CredentialBlob.integrityHMAC, wrong.CredentialBlob.encIdentity, wrong.Secret))
                .hasMessageContaining("refuses the credential");
    }

    @Test
    @Order(8)
    void manyCallersShareTheConnection() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                int n = i;
                fs.add(pool.submit(() -> n % 2 == 0 ? tpm.readPcrs(PCR) : tpm.extendPcr(16, new byte[32])));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    @Order(9)
    void quoteVerifiesWithTpm2CheckquoteAndPcrsEqualTpm2Pcrread() throws Exception {
        byte[] nonce = sha256("verifier nonce".getBytes());
        Quote q = tpm.quote(nonce, 16, PCR);
        TpmPublic ak = tpm.attestationKey();
        Signature v = Signature.getInstance("SHA256withECDSA");
        v.initVerify(ak.key());
        v.update(q.attest());
        assertThat(v.verify(q.derSignature())).isTrue();

        tpm.release(); // swtpm serves one client at a time
        Path d = Files.createTempDirectory(SWTPM.dir(), "quote");
        Files.writeString(d.resolve("ak.pem"), ak.pem());
        Files.write(d.resolve("quote.msg"), q.attest());
        Files.write(d.resolve("quote.sig"), q.signature());
        String pcrread = Swtpm.run(List.of("tpm2_pcrread", "-T", SWTPM.tcti(), "sha256:16,23", "-F", "serialized",
                "-o", d.resolve("pcrs.bin").toString()));
        Swtpm.run(List.of("tpm2_checkquote", "-u", d.resolve("ak.pem").toString(), "-m",
                d.resolve("quote.msg").toString(), "-s", d.resolve("quote.sig").toString(), "-f",
                d.resolve("pcrs.bin").toString(), "-g", "sha256", "-q", HexFormat.of().formatHex(nonce)));
        for (Pcr p : q.pcrs()) {
            assertThat(pcrread).containsIgnoringCase(p.index() + ": 0x" + p.hex());
        }
        // no transient object or session of ours is left in the TPM
        String handles = Swtpm.run(List.of("tpm2_getcap", "-T", SWTPM.tcti(), "handles-transient"))
                + Swtpm.run(List.of("tpm2_getcap", "-T", SWTPM.tcti(), "handles-loaded-session"));
        assertThat(handles.trim()).isEmpty();

        // a quote over other PCR values does not verify against tpm2_pcrread's values
        Swtpm.run(List.of("tpm2_pcrextend", "-T", SWTPM.tcti(),
                "23:sha256=" + HexFormat.of().formatHex(sha256("x".getBytes()))));
        Swtpm.run(List.of("tpm2_pcrread", "-T", SWTPM.tcti(), "sha256:16,23", "-F", "serialized", "-o",
                d.resolve("pcrs2.bin").toString()));
        assertThatThrownBy(() -> Swtpm.run(List.of("tpm2_checkquote", "-u", d.resolve("ak.pem").toString(), "-m",
                d.resolve("quote.msg").toString(), "-s", d.resolve("quote.sig").toString(), "-f",
                d.resolve("pcrs2.bin").toString(), "-g", "sha256", "-q", HexFormat.of().formatHex(nonce))))
                .hasMessageContaining("failed");
    }

    @Test
    @Order(10)
    void restartedTpmGivesAClearErrorThenRecovers() {
        NvCounter before = tpm.counter(COUNTER);
        byte[] akName = tpm.attestationKey().name();
        SWTPM.kill();
        assertThatThrownBy(() -> tpm.readPcrs(PCR)).isInstanceOf(TpmUnavailableException.class)
                .hasMessageContaining("readPcrs").hasMessageContaining("swtpm tcp 127.0.0.1:" + SWTPM.port());
        SWTPM.restart();
        // the same service reconnects: PCRs were reset by the restart, NV and the seeds were kept
        assertThat(tpm.readPcrs(PCR).get(0).value()).isEqualTo(new byte[32]);
        assertThat(tpm.counter(COUNTER).value()).isEqualTo(before.value());
        assertThat(tpm.attestationKey().name()).isEqualTo(akName);
    }
}
