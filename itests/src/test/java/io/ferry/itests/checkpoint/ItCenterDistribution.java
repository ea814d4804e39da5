package io.ferry.itests.checkpoint;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

import io.ferry.api.channel.AgentCredentials;
import io.ferry.channel.testing.TestPki;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.seal.SealStorage;
import io.ferry.enrolment.internal.ItCenterLinkService;
import io.ferry.enrolment.internal.LinkConfig;

/**
 * A real IT center: a Ferry distribution unpacked from the build's tarball and started with the
 * team's scripts/cloud.sh ({@code cloud_itcenter_start}, read-only here), booting ferry-itcenter
 * (H2, its own CA, HTTPS with client certificates). Agents are registered with
 * {@code itcenter:register-agent}; each gets the issued key and chain as its channel credentials
 * and as the identity of a real {@link ItCenterLinkService} (JSON over mutual TLS 1.3).
 */
final class ItCenterDistribution implements AutoCloseable {

    private static final int PORT_OFFSET = 71;
    static final int HTTPS_PORT = 18771;

    final Path root;
    final Path dir;

    private ItCenterDistribution(Path root, Path dir) {
        this.root = root;
        this.dir = dir;
    }

    static ItCenterDistribution start(Path work) throws Exception {
        Path root = Path.of(System.getProperty("ferry.testbed.dir", "../testbed")).toAbsolutePath().normalize()
                .getParent();
        Path dir = work.resolve("checkpoint-itcenter");
        ItCenterDistribution d = new ItCenterDistribution(root, dir);
        long t0 = System.nanoTime();
        d.sh("cloud_itcenter_start " + dir + " " + PORT_OFFSET + " " + HTTPS_PORT);
        System.out.printf("IT center distribution up in %d s (%s)%n", (System.nanoTime() - t0) / 1_000_000_000L, dir);
        return d;
    }

    /** An agent registered at this IT center: its key, issued chain (root last) and id. */
    record Agent(String id, String name, PrivateKey key, List<X509Certificate> chain) {
        X509Certificate root() {
            return chain.get(chain.size() - 1);
        }

        /** The channel credentials: the issued certificate, trusting peers the same IT center issued. */
        AgentCredentials credentials() throws Exception {
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, null);
            anchors.setCertificateEntry("root", root());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(anchors);
            X509TrustManager trust = (X509TrustManager) tmf.getTrustManagers()[0];
            X509Certificate[] leafFirst = chain.subList(0, chain.size() - 1).toArray(new X509Certificate[0]);
            return TestPki.credentials(id, key, leafFirst, trust);
        }
    }

    Agent register(String name) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        Path keyFile = dir.resolve(name + ".pub.pem");
        Path certFile = dir.resolve(name + ".chain.pem");
        Files.writeString(keyFile, "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(
                        kp.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        String out = cmd("itcenter:register-agent -o itest -c " + certFile + " " + name + " " + keyFile);
        Matcher m = Pattern.compile("with id (\\S+);").matcher(out);
        assertTrue(out, m.find());
        List<X509Certificate> chain = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509").generateCertificates(
                new ByteArrayInputStream(Files.readAllBytes(certFile)))) {
            chain.add((X509Certificate) c);
        }
        assertTrue("chain with its root: " + chain.size(), chain.size() >= 2);
        return new Agent(m.group(1), name, kp.getPrivate(), chain);
    }

    /**
     * The real ItCenterLinkService of an agent, outside OSGi: its identity is put into the agent's seal
     * storage as enrolment stores it (ferry.agent.tls-key, ferry.agent.tls-certificates, ferry.agent.itcenter),
     * and it loads it from there. {@code url} overrides the IT center's address (a cable in between).
     */
    static ItCenterLink link(Agent agent, SealStorage seal, String url) throws Exception {
        seal.put("ferry.agent.tls-key", agent.key().getEncoded());
        StringBuilder pem = new StringBuilder();
        for (X509Certificate c : agent.chain()) {
            pem.append("-----BEGIN CERTIFICATE-----\n")
                    .append(Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                            .encodeToString(c.getEncoded()))
                    .append("\n-----END CERTIFICATE-----\n");
        }
        seal.put("ferry.agent.tls-certificates", pem.toString().getBytes(StandardCharsets.US_ASCII));
        seal.put("ferry.agent.itcenter", ("https://127.0.0.1:" + HTTPS_PORT + "/\n" + agent.id())
                .getBytes(StandardCharsets.UTF_8));
        ItCenterLinkService link = new ItCenterLinkService(linkConfig(url), null, seal);
        long deadline = System.currentTimeMillis() + 10_000;
        while (!link.enrolled()) {
            assertTrue("the link did not load the identity", System.currentTimeMillis() < deadline);
            Thread.sleep(50);
        }
        return link;
    }

    private static LinkConfig linkConfig(String url) {
        return new LinkConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return LinkConfig.class;
            }

            @Override
            public String url() {
                return url == null ? "" : url;
            }

            @Override
            public String root_certificate() {
                return "";
            }

            @Override
            public String root_sha256() {
                return "";
            }

            @Override
            public int connect_timeout_seconds() {
                return 2;
            }

            @Override
            public int retries() {
                return 0;
            }

            @Override
            public int retry_delay_ms() {
                return 0;
            }

            @Override
            public double renew_fraction() {
                return 0.66;
            }

            @Override
            public int check_minutes() {
                return 60;
            }
        };
    }

    /** Stops the IT center (bin/stop, as an administrator would) and starts it again; returns when HTTPS answers. */
    long restart() throws Exception {
        long t0 = System.nanoTime();
        // Karaf's default updateSnapshots=crc would, at the restart, replace the IT center's SNAPSHOT bundles with
        // whatever the shared ~/.m2 holds by then (other engineers rebuild them, sometimes mid-write): a restart
        // keeps what ran
        sh("cloud_cfg " + dir + "/etc/org.apache.karaf.features.cfg updateSnapshots none && dist_stop " + dir
                + " && \"" + dir + "/bin/start\" >/dev/null && cloud_wait 180 'HTTPS' curl -skf -o /dev/null "
                + "https://127.0.0.1:" + HTTPS_PORT + "/api/v1/ca && sleep 2 && cloud_wait 60 'HTTPS again' curl -skf "
                + "-o /dev/null https://127.0.0.1:" + HTTPS_PORT + "/api/v1/ca");
        return (System.nanoTime() - t0) / 1_000_000;
    }

    String cmd(String command) throws Exception {
        return sh("dist_cmd " + dir + " '" + command + "'");
    }

    @Override
    public void close() throws Exception {
        sh("cloud_stop " + dir);
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
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
