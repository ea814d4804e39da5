package io.ferry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import io.ferry.api.itcenter.AgentRegistration;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.Enrolment;
import io.ferry.api.itcenter.ItCenter;

/**
 * The IT center in the real distribution on the embedded database: an agent holding a
 * certificate issued by the IT center's CA reads the agents and appends an audit event over
 * HTTPS; without a certificate, and after revocation, it is refused with a 4xx and the refusal is
 * in the audit log.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ItCenterIT extends FerryTestSupport {

    private static final int PORT = 18443;

    @Override
    protected void ferryOptions(List<Option> options) {
        options.add(editConfigurationFilePut("etc/io.ferry.itcenter.cfg", "https.port", String.valueOf(PORT)));
    }

    @Test
    public void agentUsesTheApiWithItsCertificateAndIsRefusedWithoutOrRevoked() throws Exception {
        installAndAssertFeature("ferry-itcenter");
        ItCenter itc = getOsgiService(ItCenter.class, 60_000);

        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        String publicPem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(kp.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        Enrolment e = itc.registerAgent(new AgentRegistration("it-laptop", "alice", "home", publicPem), "itest");
        Certificate[] chain = CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(e.certificate().pem().getBytes(StandardCharsets.US_ASCII)))
                .toArray(new Certificate[0]);

        HttpClient agent = client(kp, chain, itc);
        HttpClient anonymous = client(null, null, itc);

        HttpResponse<String> agents = await(agent, get("/api/v1/agents"));
        assertEquals(agents.body(), 200, agents.statusCode());
        assertTrue(agents.body(), agents.body().contains("\"name\":\"it-laptop\""));

        HttpResponse<String> posted = agent.send(post("/api/v1/audit",
                "{\"kind\":\"migration.started\",\"vm\":\"vm1\",\"detail\":\"to desktop\"}"),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(posted.body(), 201, posted.statusCode());
        assertEquals(1, itc.audit(new AuditQuery(e.agent().id(), "vm1", "migration.started", null, 10)).size());

        HttpResponse<String> unknownField = agent.send(post("/api/v1/audit",
                "{\"kind\":\"x\",\"agent\":\"someone-else\"}"), HttpResponse.BodyHandlers.ofString());
        assertEquals(unknownField.body(), 400, unknownField.statusCode());
        assertTrue(unknownField.headers().firstValue("content-type").orElse("").startsWith("application/problem+json"));

        HttpResponse<String> noCert = anonymous.send(get("/api/v1/agents"), HttpResponse.BodyHandlers.ofString());
        assertEquals(noCert.body(), 401, noCert.statusCode());

        // a certificate the IT center did not issue (self-signed, same subject, own key) gets through the
        // handshake and is refused by the API
        KeyStore.PrivateKeyEntry foreignEntry = selfSigned("CN=" + e.agent().id() + ", O=Ferry");
        HttpClient foreign = client(new KeyPair(foreignEntry.getCertificate().getPublicKey(), foreignEntry.getPrivateKey()),
                foreignEntry.getCertificateChain(), itc);
        HttpResponse<String> foreignCert = foreign.send(get("/api/v1/agents"), HttpResponse.BodyHandlers.ofString());
        assertEquals(foreignCert.body(), 403, foreignCert.statusCode());

        itc.revoke(e.agent().id(), "stolen", "itest");
        HttpResponse<String> revoked = agent.send(post("/api/v1/audit", "{\"kind\":\"x\"}"),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(revoked.body(), 403, revoked.statusCode());
        assertEquals(0, itc.audit(new AuditQuery(e.agent().id(), null, "x", null, 10)).size());
        assertEquals(3, itc.audit(new AuditQuery(null, null, "access.refused", null, 10)).size());

        HttpResponse<byte[]> crl = anonymous.send(get("/api/v1/crl"), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, crl.statusCode());
        assertTrue(((java.security.cert.X509CRL) CertificateFactory.getInstance("X.509")
                .generateCRL(new ByteArrayInputStream(crl.body()))).isRevoked(chain[0]));
    }

    /** A self-signed EC certificate and its key, made by the JDK's keytool (no BouncyCastle in the probe). */
    private static KeyStore.PrivateKeyEntry selfSigned(String subject) throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("itc-foreign");
        java.nio.file.Path p12 = dir.resolve("foreign.p12");
        Process keytool = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "foreign", "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA",
                "-dname", subject, "-validity", "1", "-storetype", "PKCS12", "-keystore", p12.toString(),
                "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(out, 0, keytool.waitFor());
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(p12)) {
            ks.load(in, "changeit".toCharArray());
        }
        return (KeyStore.PrivateKeyEntry) ks.getEntry("foreign", new KeyStore.PasswordProtection("changeit".toCharArray()));
    }

    private static HttpResponse<String> await(HttpClient client, HttpRequest request) throws Exception {
        long end = System.currentTimeMillis() + 60_000;
        while (true) {
            try {
                HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 404 || System.currentTimeMillis() > end) {
                    return r;
                }
            } catch (java.io.IOException ex) {
                if (System.currentTimeMillis() > end) {
                    throw ex;
                }
            }
            Thread.sleep(500);
        }
    }

    private static HttpRequest get(String path) {
        return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + PORT + path)).timeout(Duration.ofSeconds(30))
                .GET().build();
    }

    private static HttpRequest post(String path, String json) {
        return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + PORT + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }

    private static HttpClient client(KeyPair kp, Certificate[] chain, ItCenter itc) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", itc.rootCertificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        KeyManager[] keyManagers = new KeyManager[0];
        if (kp != null) {
            // offers its certificate whatever issuers the server names, as a client with a foreign one would
            keyManagers = new KeyManager[] {new X509ExtendedKeyManager() {
                @Override
                public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                    return "agent";
                }

                @Override
                public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
                    return "agent";
                }

                @Override
                public String[] getClientAliases(String keyType, Principal[] issuers) {
                    return new String[] {"agent"};
                }

                @Override
                public String[] getServerAliases(String keyType, Principal[] issuers) {
                    return null;
                }

                @Override
                public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                    return null;
                }

                @Override
                public X509Certificate[] getCertificateChain(String alias) {
                    return Arrays.copyOf(chain, chain.length, X509Certificate[].class);
                }

                @Override
                public PrivateKey getPrivateKey(String alias) {
                    return kp.getPrivate();
                }
            }};
        }
        SSLContext ssl = SSLContext.getInstance("TLSv1.3");
        ssl.init(keyManagers, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
    }
}
