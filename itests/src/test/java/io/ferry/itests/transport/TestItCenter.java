package io.ferry.itests.transport;

import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.ferry.api.attestation.AppraisalPolicy;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.channel.AgentCredentials;
import io.ferry.channel.testing.TestPki;
import io.ferry.api.itcenter.Agent;
import io.ferry.api.itcenter.AgentRegistration;
import io.ferry.api.itcenter.AuditEntry;
import io.ferry.api.itcenter.AuditEvent;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.Enrolment;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.attestation.verifier.SoftwareAttester;
import io.ferry.attestation.wire.AttestationJson;
import io.ferry.itcenter.attestation.AttestationService;
import io.ferry.itcenter.attestation.AttestationTestAccess;
import io.ferry.itcenter.internal.ItCenterTestAccess;
import io.ferry.itcenter.internal.Store;

/**
 * The IT center's real logic in the test JVM: its registry, CA (agent certificates, revocation, CRL),
 * attestation verdicts (nonces bound to the channel, quote signature against the enrolled key, log
 * replay, appraisal against published reference values) and audit log, on an H2 database. Agents
 * reach it through {@link #link} — the calls the REST resources serve, with the same JSON and the
 * same certificate authentication ({@link ItCenter#authenticate}), without HTTPS in between.
 */
public final class TestItCenter implements AutoCloseable {

    static final SecurityLevels LEVELS = new SecurityLevels(List.of("untrusted", "measured", "trusted"));
    /** What an honest agent measures; the IT center publishes exactly these as reference values. */
    static final String QEMU = "qemu-system-x86_64";
    static final String QEMU_BINARY = "qemu 7.2.15 as shipped";
    static final String LIBVIRTD = "libvirtd";
    static final String LIBVIRTD_BINARY = "libvirtd 9.0.0 as shipped";
    private static final ObjectMapper JSON = new ObjectMapper();

    final Store store;
    final ItCenter itCenter;
    final AttestationService attestation;

    public TestItCenter(Path dir) {
        this.store = ItCenterTestAccess.open("jdbc:h2:file:" + dir.resolve("itcenter").toAbsolutePath());
        this.itCenter = ItCenterTestAccess.itCenter(store, java.time.Clock.systemUTC());
        this.attestation = AttestationTestAccess.service(store,
                new AppraisalPolicy(LEVELS, "measured", Set.of(QEMU, LIBVIRTD), false), SoftwareAttester.PCR);
        AttestationTestAccess.publish(store, QEMU, "7.2.15", SoftwareAttester.digestOf(QEMU_BINARY));
        AttestationTestAccess.publish(store, LIBVIRTD, "9.0.0", SoftwareAttester.digestOf(LIBVIRTD_BINARY));
    }

    /** An agent enrolled here: its certificate from this CA, its attestation key on record. */
    public record Enrolled(String id, AgentCredentials credentials, SoftwareAttester tpm, ItCenterLink link) {
    }

    /** Enrols an agent: a key pair, a certificate issued by this IT center, an attestation key, honest measurements. */
    public Enrolled enrol(String name) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair tls = g.generateKeyPair();
        String pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, new byte[] { '\n' })
                .encodeToString(tls.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
        Enrolment e = itCenter.registerAgent(new AgentRegistration(name, "alice", "home", pem), "test");
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(e.certificate().pem().getBytes(StandardCharsets.US_ASCII)));
        SoftwareAttester tpm = new SoftwareAttester();
        tpm.measure(QEMU, "7.2.15", QEMU_BINARY);
        tpm.measure(LIBVIRTD, "9.0.0", LIBVIRTD_BINARY);
        AttestationTestAccess.enrolAttestationKey(store, e.agent().id(), tpm.akPublic());
        X509Certificate[] chain = { cert, itCenter.rootCertificate() };
        AgentCredentials credentials = credentials(e.agent().id(), tls.getPrivate(), chain);
        return new Enrolled(e.agent().id(), credentials, tpm, new Link(chain));
    }

    /** Revokes an agent's certificates: its CRL lists them, and it can no longer call the IT center. */
    void revoke(String agentId) {
        itCenter.revoke(agentId, "the device was stolen", "test");
    }

    /** The audit events about a VM, oldest first. */
    public List<AuditEvent> audit(String vm) {
        List<AuditEvent> events = new java.util.ArrayList<>(itCenter.audit(new AuditQuery(null, vm, null, null, 1000)));
        events.sort(java.util.Comparator.comparingLong(AuditEvent::seq));
        return events;
    }

    @Override
    public void close() {
        store.close();
    }

    private AgentCredentials credentials(String id, PrivateKey key, X509Certificate[] chain) throws Exception {
        return TestPki.credentials(id, key, chain, new CrlTrust(itCenter));
    }

    /**
     * Trusts certificates of this IT center's root that are not on its current CRL (the CRL read at
     * every handshake, as an agent's revocation check does once its cached CRL is refreshed).
     */
    private static final class CrlTrust extends X509ExtendedTrustManager {
        private final ItCenter itCenter;
        private final X509TrustManager pkix;

        CrlTrust(ItCenter itCenter) throws Exception {
            this.itCenter = itCenter;
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            ts.setCertificateEntry("root", itCenter.rootCertificate());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ts);
            this.pkix = (X509TrustManager) tmf.getTrustManagers()[0];
        }

        private void check(X509Certificate[] chain, String authType, boolean client) throws CertificateException {
            if (client) {
                pkix.checkClientTrusted(chain, authType);
            } else {
                pkix.checkServerTrusted(chain, authType);
            }
            X509CRL crl;
            try {
                crl = (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(
                        new ByteArrayInputStream(itCenter.crl()));
                crl.verify(itCenter.rootCertificate().getPublicKey());
            } catch (java.security.GeneralSecurityException e) {
                throw new CertificateException("the IT center's CRL does not verify: " + e.getMessage(), e);
            }
            if (crl.isRevoked(chain[0])) {
                throw new CertificateException("certificate " + chain[0].getSerialNumber().toString(16)
                        + " of " + chain[0].getSubjectX500Principal().getName() + " is revoked");
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain, authType, true);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain, authType, false);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket s) throws CertificateException {
            check(chain, authType, true);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket s) throws CertificateException {
            check(chain, authType, false);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine e) throws CertificateException {
            check(chain, authType, true);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine e) throws CertificateException {
            check(chain, authType, false);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return pkix.getAcceptedIssuers();
        }
    }

    /** One agent's link: every call authenticated with its certificate chain, like the REST resources do. */
    private final class Link implements ItCenterLink {
        private final X509Certificate[] chain;

        Link(X509Certificate[] chain) {
            this.chain = chain;
        }

        @Override
        public URI uri() {
            return URI.create("in-jvm:itcenter/");
        }

        @Override
        public boolean enrolled() {
            return true;
        }

        @Override
        public String call(String method, String path, String json, Duration timeout) {
            Agent caller = itCenter.authenticate(chain, method + " " + path, "in-jvm");
            String route = method + " " + path;
            switch (route) {
            case "POST attestation/nonces":
                return AttestationJson.write(AttestationJson.toJson(attestation.issueNonce(caller.id(),
                        AttestationJson.read(json, AttestationJson::nonceRequest))));
            case "POST attestation/verdicts":
                return AttestationJson.write(AttestationJson.toJson(attestation.submit(caller.id(),
                        AttestationJson.read(json, AttestationJson::submission))));
            case "POST audit":
                try {
                    JsonNode n = JSON.readTree(json);
                    itCenter.audit(new AuditEntry(n.path("kind").asText(), caller.id(),
                            n.hasNonNull("vm") ? n.get("vm").asText() : null, "agent:" + caller.id(),
                            n.path("detail").asText()));
                    return "";
                } catch (java.io.IOException e) {
                    throw new ItCenterException(ItCenterException.Reason.INVALID, "malformed audit event: " + e);
                }
            default:
                throw new ItCenterException(ItCenterException.Reason.NOT_FOUND, "not served in the test JVM: " + route);
            }
        }
    }
}
