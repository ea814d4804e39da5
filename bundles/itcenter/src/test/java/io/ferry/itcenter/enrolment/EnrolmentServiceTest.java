package io.ferry.itcenter.enrolment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import javax.security.auth.x500.X500Principal;

import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.ferry.api.enrolment.Invitation;
import io.ferry.api.itcenter.AuditEvent;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;
import io.ferry.api.tpm.Quote;
import io.ferry.itcenter.enrolment.EnrolmentService.Challenge;
import io.ferry.itcenter.enrolment.EnrolmentService.ChallengeRequest;
import io.ferry.itcenter.enrolment.EnrolmentService.Completion;
import io.ferry.itcenter.enrolment.EnrolmentService.Enrolled;
import io.ferry.itcenter.internal.ItCenterTestAccess;
import io.ferry.itcenter.internal.Store;
import io.ferry.tpm.internal.TssTpm;
import io.ferry.tpm.testing.Swtpm;

/** The IT center's enrolment against a real swtpm playing the agent: the happy path and every refusal. */
class EnrolmentServiceTest {

    @RegisterExtension
    static final Swtpm SWTPM = new Swtpm();

    static TssTpm tpm;
    static List<X509Certificate> swtpmCa;

    final MovableClock clock = new MovableClock(Instant.now());
    Store store;
    ItCenter itCenter;
    EnrolmentService enrolment;

    @TempDir
    Path dir;

    @BeforeAll
    static void tpm() throws Exception {
        tpm = TssTpm.swtpm(SWTPM.host(), SWTPM.port());
        // the swtpm's local CA ("TPM vendor"): its certificates only, as an administrator would install them
        Path cas = Files.createTempDirectory("ferry-ek-ca");
        Files.copy(SWTPM.dir().resolve("localca/issuercert.pem"), cas.resolve("issuercert.pem"));
        Files.copy(SWTPM.dir().resolve("localca/swtpm-localca-rootca-cert.pem"), cas.resolve("rootca.pem"));
        swtpmCa = EnrolmentChecks.loadVendorCas(cas);
        assertThat(swtpmCa).hasSize(2);
    }

    @BeforeEach
    void setUp() throws Exception {
        store = ItCenterTestAccess.open(databaseUrl());
        itCenter = ItCenterTestAccess.itCenter(store, clock);
        enrolment = new EnrolmentService(store, itCenter, swtpmCa, Duration.ofMinutes(2), Duration.ofHours(1), clock);
    }

    /** The embedded H2 here; PostgresEnrolmentServiceTest runs the same on PostgreSQL. */
    String databaseUrl() throws Exception {
        return "jdbc:h2:file:" + dir.resolve("db").toAbsolutePath();
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    // --- the agent, as TpmEnrolment does it

    ChallengeRequest request(String name, String token) {
        return new ChallengeRequest(name, token, null, b64(tpm.endorsementCertificate().orElseThrow()),
                b64(tpm.endorsementKey().publicArea()), b64(tpm.attestationKey().publicArea()));
    }

    byte[] activate(Challenge c) {
        return tpm.activateCredential(d(c.integrityHmac()), d(c.encIdentity()), d(c.encryptedSecret()));
    }

    static KeyPair tlsKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    static String csr(KeyPair k) throws Exception {
        var req = new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=agent"), k.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(k.getPrivate()));
        StringWriter w = new StringWriter();
        try (JcaPEMWriter p = new JcaPEMWriter(w)) {
            p.writeObject(req);
        }
        return w.toString();
    }

    Completion completion(Challenge c, byte[] secret, KeyPair csrKey, KeyPair quotedKey) throws Exception {
        Quote q = tpm.quote(EnrolmentChecks.sha256(quotedKey.getPublic().getEncoded()), 23);
        return new Completion(c.challengeId(), b64(secret), csr(csrKey), b64(q.attest()), b64(q.signature()));
    }

    Invitation invite(String name) {
        return enrolment.invite(name, "alice", "laptops", Duration.ofHours(1), "console:admin");
    }

    // --- the happy path

    @Test
    void enrolsAnAttestedPlatformAndIssuesItsCertificate() throws Exception {
        Invitation inv = invite("dev1");
        assertThat(inv.token()).hasSizeGreaterThanOrEqualTo(32);
        Challenge c = enrolment.challenge(request("dev1", inv.token()), "127.0.0.1");
        assertThat(c.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofMinutes(2)));
        KeyPair k = tlsKey();
        Enrolled e = enrolment.complete(completion(c, activate(c), k, k), "127.0.0.1");

        assertThat(e.name()).isEqualTo("dev1");
        assertThat(e.owner()).isEqualTo("alice");
        assertThat(e.group()).isEqualTo("laptops");
        List<X509Certificate> chain = new ArrayList<>();
        for (var cert : CertificateFactory.getInstance("X.509")
                .generateCertificates(new java.io.ByteArrayInputStream(e.pem().getBytes()))) {
            chain.add((X509Certificate) cert);
        }
        assertThat(chain.get(0).getPublicKey()).isEqualTo(k.getPublic());
        assertThat(chain.get(0).getSubjectX500Principal().getName()).contains("CN=" + e.agentId());
        chain.get(0).verify(itCenter.rootCertificate().getPublicKey());
        assertThat(itCenter.agent(e.agentId())).get().satisfies(a -> {
            assertThat(a.name()).isEqualTo("dev1");
            assertThat(a.owner()).isEqualTo("alice");
        });
        // the registry has the EK certificate, the AK as SubjectPublicKeyInfo and the AK's name
        String[] row = store.transaction(t -> {
            try (PreparedStatement ps = t.connection().prepareStatement(
                    "SELECT ek_certificate, ak_public, ak_name FROM agent WHERE id = ?")) {
                ps.setString(1, e.agentId());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new String[] { rs.getString(1), rs.getString(2), rs.getString(3) };
                }
            }
        });
        assertThat(d(row[0])).isEqualTo(tpm.endorsementCertificate().orElseThrow());
        assertThat(d(row[1])).isEqualTo(tpm.attestationKey().key().getEncoded());
        assertThat(row[2]).isEqualTo(EnrolmentService.hex(tpm.attestationKey().name()));
        assertThat(kinds()).containsSubsequence("enrolment.invited", "enrolment.challenged", "agent.registered",
                "enrolment.completed");

        // the token is spent: a second enrolment with it is refused at once
        assertThatThrownBy(() -> enrolment.challenge(request("dev1", inv.token()), "127.0.0.1"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("used already")
                .extracting(x -> ((ItCenterException) x).reason()).isEqualTo(Reason.CONFLICT);
        assertThat(kinds()).last().isEqualTo("enrolment.refused");
        assertThat(itCenter.agents()).hasSize(1);
    }

    // --- refusals: each registers nothing and is audited

    @Test
    void refusesUnknownExpiredAndMisnamedTokens() {
        refused(() -> enrolment.challenge(request("dev1", "A".repeat(32)), "p"), "unknown token");
        Invitation inv = invite("dev1");
        refused(() -> enrolment.challenge(request("dev2", inv.token()), "p"), "not for a device named 'dev2'");
        refused(() -> enrolment.challenge(new ChallengeRequest("dev1", inv.token(), "servers",
                b64(tpm.endorsementCertificate().orElseThrow()), b64(tpm.endorsementKey().publicArea()),
                b64(tpm.attestationKey().publicArea())), "p"), "for group 'laptops'");
        clock.advance(Duration.ofHours(2));
        refused(() -> enrolment.challenge(request("dev1", inv.token()), "p"), "expired");
    }

    @Test
    void refusesAnEkCertificateOfAnUntrustedVendor() throws Exception {
        Invitation inv = invite("dev1");
        X509Certificate otherCa;
        try (InputStream in = EnrolmentServiceTest.class.getResourceAsStream("/not-a-tpm-vendor.pem")) {
            otherCa = in == null ? itCenter.rootCertificate()
                    : (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        EnrolmentService strict = new EnrolmentService(store, itCenter, List.of(otherCa), Duration.ofMinutes(2),
                Duration.ofHours(1), clock);
        refused(() -> strict.challenge(request("dev1", inv.token()), "p"), "does not chain to a trusted TPM vendor CA");
        EnrolmentService none = new EnrolmentService(store, itCenter, List.of(), Duration.ofMinutes(2),
                Duration.ofHours(1), clock);
        refused(() -> none.challenge(request("dev1", inv.token()), "p"), "no TPM vendor CA is configured");
        refused(() -> enrolment.challenge(new ChallengeRequest("dev1", inv.token(), null, b64(new byte[] { 1, 2, 3 }),
                b64(tpm.endorsementKey().publicArea()), b64(tpm.attestationKey().publicArea())), "p"),
                "not an X.509 certificate");
    }

    @Test
    void refusesAnEkOrAkThatIsNotWhatItClaims() {
        Invitation inv = invite("dev1");
        String ekCert = b64(tpm.endorsementCertificate().orElseThrow());
        // the storage root key is not the certified EK
        refused(() -> enrolment.challenge(new ChallengeRequest("dev1", inv.token(), null, ekCert,
                b64(tpm.storageRootKey().publicArea()), b64(tpm.attestationKey().publicArea())), "p"), "EK");
        // an ordinary signing key is not a restricted attestation key
        byte[] signingKey = tpm.publicOf(tpm.createSigningKey()).publicArea();
        refused(() -> enrolment.challenge(new ChallengeRequest("dev1", inv.token(), null, ekCert,
                b64(tpm.endorsementKey().publicArea()), b64(signingKey)), "p"), "not a restricted signing key");
        // the EK as AK: a decryption key
        refused(() -> enrolment.challenge(new ChallengeRequest("dev1", inv.token(), null, ekCert,
                b64(tpm.endorsementKey().publicArea()), b64(tpm.endorsementKey().publicArea())), "p"), "AK");
        byte[] truncated = java.util.Arrays.copyOf(tpm.attestationKey().publicArea(), 40);
        refused(() -> enrolment.challenge(new ChallengeRequest("dev1", inv.token(), null, ekCert,
                b64(tpm.endorsementKey().publicArea()), b64(truncated)), "p"), "AK public area");
        byte[] trailing = java.util.Arrays.copyOf(tpm.attestationKey().publicArea(),
                tpm.attestationKey().publicArea().length + 1);
        refused(() -> enrolment.challenge(new ChallengeRequest("dev1", inv.token(), null, ekCert,
                b64(tpm.endorsementKey().publicArea()), b64(trailing)), "p"), "trailing");
    }

    @Test
    void refusesAWrongSecretAndSpendsTheChallenge() throws Exception {
        Invitation inv = invite("dev1");
        Challenge c = enrolment.challenge(request("dev1", inv.token()), "p");
        byte[] secret = activate(c);
        byte[] wrong = secret.clone();
        wrong[0] ^= 1;
        KeyPair k = tlsKey();
        refused(() -> enrolment.complete(completion(c, wrong, k, k), "p"), "secret is wrong");
        // the right secret afterwards does not help: the challenge was spent by the first answer
        refusedWith(Reason.CONFLICT, () -> enrolment.complete(completion(c, secret, k, k), "p"), "answered already");
    }

    @Test
    void refusesAReplayedChallengeAfterSuccess() throws Exception {
        Invitation inv = invite("dev1");
        Challenge c = enrolment.challenge(request("dev1", inv.token()), "p");
        KeyPair k = tlsKey();
        Completion done = completion(c, activate(c), k, k);
        enrolment.complete(done, "p");
        assertThat(itCenter.agents()).hasSize(1);
        refusedWith(Reason.CONFLICT, () -> enrolment.complete(done, "p"), "answered already", 1);
    }

    @Test
    void refusesAnExpiredChallenge() throws Exception {
        Invitation inv = invite("dev1");
        Challenge c = enrolment.challenge(request("dev1", inv.token()), "p");
        byte[] secret = activate(c);
        clock.advance(Duration.ofMinutes(3));
        KeyPair k = tlsKey();
        refused(() -> enrolment.complete(completion(c, secret, k, k), "p"), "expired");
    }

    @Test
    void refusesAQuoteOverAnotherKeyOrTampered() throws Exception {
        Invitation inv = invite("dev1");
        KeyPair k = tlsKey();
        KeyPair other = tlsKey();
        Challenge c1 = enrolment.challenge(request("dev1", inv.token()), "p");
        refused(() -> enrolment.complete(completion(c1, activate(c1), k, other), "p"), "not SHA-256 of the TLS public key");

        Challenge c2 = enrolment.challenge(request("dev1", inv.token()), "p");
        Completion good = completion(c2, activate(c2), k, k);
        byte[] attest = d(good.quoteAttest());
        attest[attest.length - 1] ^= 1;
        refused(() -> enrolment.complete(new Completion(good.challengeId(), good.secret(), good.csr(), b64(attest),
                good.quoteSignature()), "p"), "signature does not verify");

        Challenge c3 = enrolment.challenge(request("dev1", inv.token()), "p");
        Completion g3 = completion(c3, activate(c3), k, k);
        refused(() -> enrolment.complete(new Completion(g3.challengeId(), g3.secret(), g3.csr(), b64(new byte[7]),
                g3.quoteSignature()), "p"), "TPMS_ATTEST");

        // a request for another key than the quoted one
        Challenge c4 = enrolment.challenge(request("dev1", inv.token()), "p");
        Completion g4 = completion(c4, activate(c4), k, k);
        refused(() -> enrolment.complete(new Completion(g4.challengeId(), g4.secret(), csr(other), g4.quoteAttest(),
                g4.quoteSignature()), "p"), "not SHA-256 of the TLS public key");
    }

    // --- helpers

    void refused(ThrowingRunnable r, String message) {
        refusedWith(null, r, message, 0);
    }

    void refusedWith(Reason reason, ThrowingRunnable r, String message) {
        refusedWith(reason, r, message, 0);
    }

    void refusedWith(Reason reason, ThrowingRunnable r, String message, int agents) {
        long before = kinds().stream().filter("enrolment.refused"::equals).count();
        assertThatThrownBy(r::run).isInstanceOf(ItCenterException.class).hasMessageContaining(message)
                .satisfies(e -> {
                    if (reason != null) {
                        assertThat(((ItCenterException) e).reason()).isEqualTo(reason);
                    }
                });
        assertThat(kinds().stream().filter("enrolment.refused"::equals).count()).isEqualTo(before + 1);
        assertThat(itCenter.agents()).hasSize(agents);
    }

    List<String> kinds() {
        return itCenter.audit(AuditQuery.all()).stream().map(AuditEvent::kind).toList();
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    static byte[] d(String s) {
        return Base64.getDecoder().decode(s);
    }

    static final class MovableClock extends Clock {
        private volatile Instant now;

        MovableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
