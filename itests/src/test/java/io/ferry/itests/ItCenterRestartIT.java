package io.ferry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.After;
import org.junit.Test;

/**
 * The IT center survives a restart of its whole distribution (bin/stop, bin/start): pax-web starts its HTTPS
 * connector from the persisted org.ops4j.pax.web configuration, which names the IT center's own JCA trust
 * manager factory, so that provider must be there before pax-web starts (bundles/itcenter-tls, start level 25,
 * installs it; the itcenter bundle itself starts at 80). Plain JUnit: a real distribution
 * from the build's tarball, started with scripts/cloud.sh (cloud_itcenter_start), no testbed host.
 */
public class ItCenterRestartIT {

    private static final int PORT_OFFSET = 40;
    private static final int HTTPS_PORT = 18443;

    private final Path root = Path.of(System.getProperty("ferry.testbed.dir", "../testbed")).toAbsolutePath()
            .normalize().getParent();
    private Path work;
    private Path dir;

    @After
    public void stop() throws Exception {
        if (dir != null) {
            sh("cloud_stop " + dir);
        }
        if (work != null) {
            try (var files = Files.walk(work)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    @Test
    public void httpsWithClientCertificatesSurvivesARestartOfTheDistribution() throws Exception {
        work = Files.createTempDirectory("ferry-itcenter-restart");
        dir = work.resolve("itc");
        sh("cloud_itcenter_start " + dir + " " + PORT_OFFSET + " " + HTTPS_PORT);

        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        Path pub = work.resolve("agent.pub.pem");
        Path chainFile = work.resolve("agent.chain.pem");
        Files.writeString(pub, "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64,
                "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(kp.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n");
        String out = sh("dist_cmd " + dir + " 'itcenter:register-agent -o itest -c " + chainFile + " restart-agent "
                + pub + "'");
        Matcher m = Pattern.compile("with id (\\S+);").matcher(out);
        assertTrue(out, m.find());
        String id = m.group(1);
        List<X509Certificate> chain = new ArrayList<>();
        for (Certificate c : CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(chainFile)))) {
            chain.add((X509Certificate) c);
        }
        assertTrue("chain with its root: " + chain.size(), chain.size() >= 2);
        X509Certificate ca = chain.get(chain.size() - 1);
        HttpClient agent = client(ca, kp, chain.subList(0, chain.size() - 1));
        HttpClient anonymous = client(ca, null, null);
        URI path = URI.create("https://127.0.0.1:" + HTTPS_PORT + "/api/v1/agents/" + id);

        assertEquals(200, get(agent, path).statusCode());

        // as an administrator would: bin/stop, bin/start (and keep the SNAPSHOT bundles that ran: the shared
        // ~/.m2 may hold others' half-built ones by now)
        long t0 = System.nanoTime();
        sh("cloud_cfg " + dir + "/etc/org.apache.karaf.features.cfg updateSnapshots none && dist_stop " + dir
                + " && \"" + dir + "/bin/start\" >/dev/null && { cloud_wait 90 'HTTPS after the restart' curl -skf "
                + "-o /dev/null https://127.0.0.1:" + HTTPS_PORT + "/api/v1/ca || { grep -A1 'Unable to start Pax Web' "
                + dir + "/data/log/karaf.log >&2; false; }; } && sleep 2 && cloud_wait 60 'HTTPS again' curl -skf "
                + "-o /dev/null https://127.0.0.1:" + HTTPS_PORT + "/api/v1/ca");
        System.out.printf("HTTPS back %d ms after bin/stop%n", (System.nanoTime() - t0) / 1_000_000);

        HttpResponse<String> ok = get(agent, path);
        assertEquals(ok.body(), 200, ok.statusCode());
        assertTrue(ok.body(), ok.body().contains(id));
        HttpResponse<String> refused = get(anonymous, path);
        assertTrue("without a client certificate: " + refused.statusCode() + " " + refused.body(),
                refused.statusCode() == 401 || refused.statusCode() == 403);
        assertTrue(refused.body(), !refused.body().contains(id));
        // a certificate the IT center did not issue is refused as well (the trust manager lets it through the
        // handshake; the REST layer must refuse it)
        KeyPair other = g.generateKeyPair();
        HttpClient stranger = client(ca, other, List.of(selfSigned(other)));
        HttpResponse<String> foreign = get(stranger, path);
        assertTrue("with a foreign certificate: " + foreign.statusCode() + " " + foreign.body(),
                foreign.statusCode() == 401 || foreign.statusCode() == 403);
    }

    private static X509Certificate selfSigned(KeyPair kp) throws Exception {
        var name = new org.bouncycastle.asn1.x500.X500Name("CN=stranger");
        var now = new java.util.Date();
        var builder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(name, java.math.BigInteger.ONE,
                now, new java.util.Date(now.getTime() + 3_600_000), name, kp.getPublic());
        var signer = new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                .build(kp.getPrivate());
        return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }

    private static HttpResponse<String> get(HttpClient client, URI uri) throws Exception {
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpClient client(X509Certificate ca, KeyPair key, List<X509Certificate> chain) throws Exception {
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        anchors.setCertificateEntry("root", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(anchors);
        SSLContext ssl = SSLContext.getInstance("TLSv1.3");
        KeyManagerFactory kmf = null;
        if (key != null) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("agent", key.getPrivate(), "x".toCharArray(), chain.toArray(new Certificate[0]));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, "x".toCharArray());
        }
        ssl.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private String sh(String script) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", "source scripts/cloud.sh; " + script).directory(root.toFile())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue("timed out: " + script, p.waitFor(5, TimeUnit.MINUTES));
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(script + ":\n" + text, 0, p.exitValue());
        return text;
    }
}
