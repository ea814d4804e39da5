package io.ferry.itcenter.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.ferry.api.itcenter.AccessDeniedException;
import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.AgentRegistration;
import io.ferry.api.itcenter.AgentStatus;
import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.AuditEvent;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.Enrolment;
import io.ferry.api.itcenter.IssuedCertificate;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.attestation.ReferenceValue;

/** Every registry, CA and audit operation, run on each database back end by a subclass. */
abstract class ItCenterContractTest {

    protected final MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.MILLIS));
    protected Store store;
    protected ItCenterService itc;

    /** A fresh, empty database of the back end under test. */
    protected abstract String newDatabaseUrl() throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = Store.open(newDatabaseUrl(), "", "");
        itc = new ItCenterService(store, CertificateAuthority.create("test root", clock), clock,
                Duration.ofHours(24), Duration.ofHours(1));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private Enrolment register(String name, KeyPair kp) throws Exception {
        return itc.registerAgent(new AgentRegistration(name, "alice", "home", Pki.csr(kp)), "console:admin");
    }

    @Test
    void registersAnAgentWithACertificateForItsKey() throws Exception {
        KeyPair kp = Pki.keyPair();
        Enrolment e = register("laptop", kp);

        assertThat(e.agent().name()).isEqualTo("laptop");
        assertThat(e.agent().status()).isEqualTo(AgentStatus.ACTIVE);
        assertThat(e.agent().certificateSerial()).isEqualTo(e.certificate().serial());
        List<X509Certificate> chain = Pki.certificates(e.certificate().pem());
        assertThat(chain).hasSize(2);
        assertThat(chain.get(0).getPublicKey()).isEqualTo(kp.getPublic());
        assertThat(chain.get(0).getSubjectX500Principal().getName()).contains("CN=" + e.agent().id());
        assertThat(chain.get(1)).isEqualTo(itc.rootCertificate());
        assertThat(e.certificate().notAfter()).isBefore(clock.instant().plus(Duration.ofHours(24)).plusSeconds(1));

        assertThat(itc.agents()).extracting(Agent::name).containsExactly("laptop");
        assertThat(itc.agent(e.agent().id())).contains(e.agent());
        assertThat(itc.agent("nope")).isEmpty();
        assertThat(itc.audit(new AuditQuery(e.agent().id(), null, "agent.registered", null, 10)))
                .singleElement().satisfies(ev -> assertThat(ev.actor()).isEqualTo("console:admin"));
    }

    @Test
    void registersWithABarePublicKeyToo() throws Exception {
        KeyPair kp = Pki.keyPair();
        Enrolment e = itc.registerAgent(new AgentRegistration("phone", "bob", "mobile", Pki.publicKeyPem(kp)), "x");
        assertThat(Pki.certificates(e.certificate().pem()).get(0).getPublicKey()).isEqualTo(kp.getPublic());
    }

    @Test
    void refusesBadRegistrationsAndWritesNothing() throws Exception {
        KeyPair kp = Pki.keyPair();
        register("laptop", kp);
        int events = itc.audit(AuditQuery.all()).size();

        assertThatThrownBy(() -> register("laptop", Pki.keyPair())).isInstanceOf(ItCenterException.class)
                .hasMessageContaining("exists already");
        assertThatThrownBy(() -> register("bad name!", Pki.keyPair())).isInstanceOf(ItCenterException.class);
        assertThatThrownBy(() -> itc.registerAgent(new AgentRegistration("x", "a", "g", "garbage"), "t"))
                .isInstanceOf(ItCenterException.class);
        assertThatThrownBy(() -> itc.registerAgent(
                new AgentRegistration("x", "a", "g", Pki.forgedCsr(Pki.keyPair(), Pki.keyPair())), "t"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("signature");

        assertThat(itc.agents()).hasSize(1);
        assertThat(itc.audit(AuditQuery.all())).hasSize(events);
    }

    @Test
    void renewsForTheSameAgentWithProofOfPossession() throws Exception {
        Enrolment e = register("laptop", Pki.keyPair());
        clock.advance(Duration.ofHours(20));
        KeyPair next = Pki.keyPair();

        IssuedCertificate renewed = itc.renew(e.agent().id(), Pki.csr(next), "agent:" + e.agent().id());

        assertThat(renewed.serial()).isNotEqualTo(e.certificate().serial());
        assertThat(renewed.notAfter()).isAfter(e.certificate().notAfter());
        assertThat(Pki.certificates(renewed.pem()).get(0).getPublicKey()).isEqualTo(next.getPublic());
        assertThat(itc.agent(e.agent().id()).orElseThrow().certificateSerial()).isEqualTo(renewed.serial());
        assertThat(itc.certificates(e.agent().id())).hasSize(2);
        assertThatThrownBy(() -> itc.renew(e.agent().id(), Pki.publicKeyPem(next), "x"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("CERTIFICATE REQUEST");
        assertThatThrownBy(() -> itc.renew("nope", Pki.csr(next), "x")).isInstanceOf(ItCenterException.class)
                .extracting(t -> ((ItCenterException) t).reason()).isEqualTo(ItCenterException.Reason.NOT_FOUND);
    }

    @Test
    void authenticatesOnlyValidUnrevokedCertificatesOfThisCa() throws Exception {
        Enrolment e = register("laptop", Pki.keyPair());
        X509Certificate[] chain = Pki.certificates(e.certificate().pem()).toArray(new X509Certificate[0]);
        assertThat(itc.authenticate(chain, "GET /agents", "127.0.0.1").id()).isEqualTo(e.agent().id());

        // no certificate
        assertDenied(null, AccessDeniedException.Reason.NO_CERTIFICATE);
        // foreign: same subject, another CA
        CertificateAuthority other = CertificateAuthority.create("test root", clock);
        X509Certificate foreign = other.issueAgent(e.agent().id(), "home", Pki.keyPair().getPublic(),
                Duration.ofHours(1)).certificate();
        assertDenied(new X509Certificate[] {foreign}, AccessDeniedException.Reason.FOREIGN);
        // expired
        clock.advance(Duration.ofHours(25));
        assertDenied(chain, AccessDeniedException.Reason.EXPIRED);

        List<AuditEvent> refused = itc.audit(new AuditQuery(null, null, "access.refused", null, 10));
        assertThat(refused).hasSize(3);
        assertThat(refused.get(2).agent()).isNull(); // the expired one: refused before the registry lookup
        assertThat(refused).allSatisfy(ev -> assertThat(ev.actor()).isEqualTo("127.0.0.1"));
    }

    @Test
    void revocationRefusesTheAgentAndListsItsCertificatesOnTheCrl() throws Exception {
        Enrolment e = register("laptop", Pki.keyPair());
        IssuedCertificate second = itc.renew(e.agent().id(), Pki.csr(Pki.keyPair()), "x");
        Enrolment other = register("desktop", Pki.keyPair());

        List<String> serials = itc.revoke(e.agent().id(), "stolen", "console:admin");

        assertThat(serials).containsExactlyInAnyOrder(e.certificate().serial(), second.serial());
        assertThat(itc.agent(e.agent().id()).orElseThrow().status()).isEqualTo(AgentStatus.REVOKED);
        X509Certificate[] chain = Pki.certificates(second.pem()).toArray(new X509Certificate[0]);
        assertDenied(chain, AccessDeniedException.Reason.REVOKED);
        assertThat(itc.audit(new AuditQuery(e.agent().id(), null, "access.refused", null, 10))).hasSize(1);
        assertThatThrownBy(() -> itc.revoke(e.agent().id(), "again", "x")).isInstanceOf(ItCenterException.class);
        assertThatThrownBy(() -> itc.renew(e.agent().id(), Pki.csr(Pki.keyPair()), "x"))
                .isInstanceOf(ItCenterException.class).hasMessageContaining("revoked");

        X509CRL crl = (X509CRL) CertificateFactory.getInstance("X.509")
                .generateCRL(new ByteArrayInputStream(itc.crl()));
        crl.verify(itc.rootCertificate().getPublicKey());
        assertThat(crl.getNextUpdate().toInstant()).isAfter(clock.instant());
        assertThat(crl.isRevoked(chain[0])).isTrue();
        assertThat(crl.isRevoked(Pki.certificates(e.certificate().pem()).get(0))).isTrue();
        assertThat(crl.isRevoked(Pki.certificates(other.certificate().pem()).get(0))).isFalse();
    }

    @Test
    void auditLogAppendsAndFilters() throws Exception {
        Enrolment a = register("laptop", Pki.keyPair());
        Enrolment b = register("desktop", Pki.keyPair());
        Instant t0 = clock.instant();
        clock.advance(Duration.ofMinutes(1));
        Instant t1 = clock.instant();
        AuditEvent m1 = itc.audit(new AuditEntry("migration.started", a.agent().id(), "vm1", "agent:x", "to desktop"));
        AuditEvent m2 = itc.audit(new AuditEntry("migration.completed", a.agent().id(), "vm1", "agent:x", null));
        AuditEvent c1 = itc.audit(new AuditEntry("checkpoint.taken", b.agent().id(), "vm2", "agent:y", "42 MB"));

        assertThat(m2.seq()).isGreaterThan(m1.seq());
        assertThat(m2.detail()).isEmpty();
        assertThat(itc.audit(new AuditQuery(null, "vm1", null, null, 100))).containsExactly(m1, m2);
        assertThat(itc.audit(new AuditQuery(null, null, "migration.*", null, 100))).containsExactly(m1, m2);
        assertThat(itc.audit(new AuditQuery(b.agent().id(), null, null, t1, 100))).containsExactly(c1);
        assertThat(itc.audit(new AuditQuery(null, null, null, t1, 2))).containsExactly(m2, c1);
        assertThat(itc.audit(new AuditQuery(null, null, null, null, 100))).hasSize(5)
                .first().satisfies(ev -> assertThat(ev.time()).isEqualTo(t0));

        assertThatThrownBy(() -> itc.audit(new AuditEntry("Bad Kind", null, null, "x", ""))).isInstanceOf(
                ItCenterException.class);
        assertThatThrownBy(() -> itc.audit(new AuditEntry("k", null, null, "x", "d".repeat(4001))))
                .isInstanceOf(ItCenterException.class);
        assertThatThrownBy(() -> itc.audit(new AuditQuery(null, null, null, null, 0)))
                .isInstanceOf(ItCenterException.class);
        assertThat(itc.audit(AuditQuery.all())).hasSize(5);
    }

    @Test
    void referenceValuesArePublishedAndAudited() {
        String sha = "ab".repeat(32);
        itc.publish(List.of(new ReferenceValue("io.ferry.hypervisor", "0.1.0", sha, "0.1.0", null)), "console:admin");
        assertThat(itc.referenceValues()).singleElement().satisfies(v -> {
            assertThat(v.sha256()).isEqualTo(sha);
            assertThat(v.publishedAt()).isEqualTo(clock.instant());
        });
        assertThat(itc.audit(new AuditQuery(null, null, "reference.published", null, 10))).hasSize(1);
        // a malformed value cannot even be made (io.ferry.api.attestation.ReferenceValue validates itself)
        assertThatThrownBy(() -> new ReferenceValue("c", "1", "xyz", "r", null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void reopeningKeepsEverythingAndMigratesNothingTwice() throws Exception {
        String url = store.url();
        Enrolment e = register("laptop", Pki.keyPair());
        store.close();
        store = Store.open(url, "", "");
        ItCenterService again = new ItCenterService(store, CertificateAuthority.create("r", clock), clock,
                Duration.ofHours(1), Duration.ofHours(1));
        assertThat(again.agent(e.agent().id())).isPresent();
        assertThat(again.audit(AuditQuery.all())).hasSize(1);
    }

    private void assertDenied(X509Certificate[] chain, AccessDeniedException.Reason reason) {
        assertThatThrownBy(() -> itc.authenticate(chain, "test", "127.0.0.1"))
                .isInstanceOf(AccessDeniedException.class)
                .extracting(t -> ((AccessDeniedException) t).reason()).isEqualTo(reason);
    }
}
