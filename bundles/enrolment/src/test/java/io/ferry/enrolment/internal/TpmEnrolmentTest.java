package io.ferry.enrolment.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.net.URI;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.ferry.api.attestation.Attester;
import io.ferry.api.enrolment.EnrolmentException;
import io.ferry.api.enrolment.EnrolmentException.Reason;
import io.ferry.api.enrolment.EnrolmentRequest;
import io.ferry.api.tpm.Tpm;
import io.ferry.api.tpm.TpmPublic;
import io.ferry.enrolment.internal.TestServer.Canned;
import io.ferry.seal.testing.MemorySealStorage;

/**
 * The agent's enrolment up to the IT center's answers (the IT center's checks are EnrolmentServiceTest's,
 * against a real swtpm; the whole flow is EnrolmentIT's): pinning, refusals, and nothing stored on failure.
 */
class TpmEnrolmentTest {

    private TestCa ca;
    private TestServer server;
    private MemorySealStorage seal;
    private ItCenterLinkService link;
    private TpmEnrolment enrolment;
    private final AtomicInteger tpmCalls = new AtomicInteger();

    @BeforeEach
    void setUp() throws Exception {
        ca = new TestCa("IT center root");
        server = new TestServer(ca, 0);
        server.answers.put("GET /api/v1/ca", new Canned(200, "application/pkix-cert", ca.root.getEncoded()));
        seal = new MemorySealStorage();
        link = new ItCenterLinkService(Configs.link("", 0, 1), new IdentityStore(seal), null, Clock.systemUTC());
        KeyPair k = Pki.newTlsKeyPair();
        TpmPublic pub = new TpmPublic(new byte[] { 1 }, new byte[] { 2 }, k.getPublic());
        Tpm tpm = (Tpm) Proxy.newProxyInstance(Tpm.class.getClassLoader(), new Class<?>[] { Tpm.class }, (p, m, a) -> {
            tpmCalls.incrementAndGet();
            return switch (m.getName()) {
                case "endorsementCertificate" -> Optional.of(new byte[] { 0x30, 0 });
                case "endorsementKey", "attestationKey" -> pub;
                default -> throw new UnsupportedOperationException(m.getName());
            };
        });
        Attester attester = (Attester) Proxy.newProxyInstance(Attester.class.getClassLoader(),
                new Class<?>[] { Attester.class }, (p, m, a) -> 23);
        enrolment = new TpmEnrolment(tpm, link, attester);
    }

    @AfterEach
    void tearDown() {
        server.close();
        link.deactivate();
    }

    private EnrolmentRequest request(String pin) {
        return new EnrolmentRequest(server.uri(), "dev1", "token-0123456789abcdef", null, pin, false);
    }

    @Test
    void refusesAnItCenterWithoutPinOrWithAnotherRootAndNamesWhatItPresented() throws Exception {
        String presented = Pki.fingerprint(ca.root);
        assertThatThrownBy(() -> enrolment.enrol(request(null), s -> { })).isInstanceOf(EnrolmentException.class)
                .hasMessageContaining("no IT center root is pinned").hasMessageContaining(presented)
                .extracting(e -> ((EnrolmentException) e).reason()).isEqualTo(Reason.UNTRUSTED);
        String other = Pki.fingerprint(new TestCa("other").root);
        assertThatThrownBy(() -> enrolment.enrol(request(other), s -> { }))
                .hasMessageContaining("does not lead to the pinned root " + other).hasMessageContaining(presented);
        assertThat(server.seen).isEmpty();
        assertThat(tpmCalls).hasValue(0);
        assertThat(seal.secrets).isEmpty();
    }

    @Test
    void refusesBadRequestsBeforeConnecting() {
        assertThat(reason(new EnrolmentRequest(URI.create("http://127.0.0.1:1/"), "dev1", "t", null, null, false)))
                .isEqualTo(Reason.INVALID);
        assertThat(reason(new EnrolmentRequest(server.uri(), "bad name", "t", null, null, false))).isEqualTo(Reason.INVALID);
        assertThat(reason(new EnrolmentRequest(server.uri(), "dev1", "", null, null, false))).isEqualTo(Reason.INVALID);
        assertThat(reason(new EnrolmentRequest(server.uri(), "dev1", "t", null, "not-hex", false))).isEqualTo(Reason.INVALID);
        assertThat(server.seen).isEmpty();
    }

    @Test
    void anItCenterRefusalStoresNothing() throws Exception {
        server.answers.put("POST /api/v1/enrolment/challenge", Canned.json(409, "{\"title\":\"conflict\",\"status\":409,"
                + "\"detail\":\"the invitation was used already, at 2026-01-01T00:00:00Z\"}"));
        StringBuilder progress = new StringBuilder();
        assertThatThrownBy(() -> enrolment.enrol(request(Pki.fingerprint(ca.root)), s -> progress.append(s).append('\n')))
                .isInstanceOf(EnrolmentException.class).hasMessageContaining("the IT center refused: the invitation was used")
                .extracting(e -> ((EnrolmentException) e).reason()).isEqualTo(Reason.REFUSED);
        assertThat(progress).contains("Reading the EK certificate", "Asking the IT center for a credential challenge");
        assertThat(server.seen).extracting(TestServer.Seen::clientCn).containsOnlyNulls();
        assertThat(server.seen.get(1).body()).contains("\"name\":\"dev1\"", "\"token\":\"token-0123456789abcdef\"",
                "\"ekCertificate\":\"MAA=\"");
        assertThat(seal.secrets).isEmpty();
        assertThat(link.enrolled()).isFalse();
    }

    @Test
    void refusesToEnrolTwiceUnlessAskedTo() throws Exception {
        KeyPair k = Pki.newTlsKeyPair();
        link.install(new Identity(server.uri(), "agent-1", k.getPrivate(), new X509Certificate[] { ca.agent("agent-1", k) },
                ca.root));
        assertThatThrownBy(() -> enrolment.enrol(request(Pki.fingerprint(ca.root)), s -> { }))
                .hasMessageContaining("enrolled already as agent-1");
        assertThat(enrolment.status().enrolled()).isTrue();
        assertThat(enrolment.status().agentId()).isEqualTo("agent-1");
        assertThat(enrolment.status().rootSha256()).isEqualTo(Pki.fingerprint(ca.root));
    }

    private Reason reason(EnrolmentRequest r) {
        try {
            enrolment.enrol(r, s -> { });
        } catch (EnrolmentException e) {
            return e.reason();
        }
        throw new AssertionError("no EnrolmentException");
    }
}
