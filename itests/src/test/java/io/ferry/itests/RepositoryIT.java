package io.ferry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
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
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.itcenter.AgentRegistration;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.Enrolment;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ReleaseRepository;

/**
 * The features repository between two distributions: the Pax Exam container is the IT center; a
 * second Ferry distribution, unpacked and started by this test with scripts/distribution.sh, is an
 * agent whose pax-url has the IT center's HTTPS repository. The IT center publishes a test feature
 * whose bundle is made here (version 1.0.0, then 1.1.0); the agent installs it with
 * {@code feature:install} and upgrades it with {@code feature:install -u}. An agent that does not
 * trust the IT center's root cannot fetch from it; a published file changed on the IT center's disk
 * is not served, so the agent's upgrade to it fails and leaves the installed version running.
 *
 * <p>Neither distribution has a TPM (the repository needs none; see FerryTestSupport). The agent is used only
 * once Karaf has published {@code BootFinished}: a distribution stopped while its boot features are still
 * being provisioned provisions them again at its next start, concurrently with the test's own
 * {@code feature:install}, and Karaf's features service then loses one of the two updates of its state (seen:
 * the sample bundle 1.0.0 no longer managed, so {@code feature:install -u} left it active next to 1.1.0).
 * Installs use {@code --no-auto-refresh}, as the agent's updater does: a refresh restarts unrelated bundles,
 * the console's SSH session among them.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RepositoryIT extends FerryTestSupport {

    private static final int PORT = 18543;
    private static final int AGENT_PORT_OFFSET = 47;
    private static final String FEATURES = "mvn:io.ferry.test/ferry-sample-features/%s/xml/features";

    @Override
    protected void ferryOptions(List<Option> options) {
        options.add(editConfigurationFilePut("etc/io.ferry.itcenter.cfg", "https.port", String.valueOf(PORT)));
        String testbed = System.getProperty("ferry.testbed.dir", "../testbed");
        options.add(editConfigurationFilePut("etc/system.properties", "ferry.root",
                Path.of(testbed).toAbsolutePath().normalize().getParent().toString()));
    }

    @Test
    public void anAgentInstallsAndUpgradesAFeatureFromTheItCentersRepository() throws Exception {
        installAndAssertFeature("ferry-itcenter");
        ItCenter itc = getOsgiService(ItCenter.class, 60_000);
        ReleaseRepository repository = getOsgiService(ReleaseRepository.class, 60_000);
        Path root = Path.of(System.getProperty("ferry.root"));
        Path agent = Files.createTempDirectory("ferry-repository-it").resolve("agent");

        // the bundle in two versions, in the IT center's own Maven repository (its system folder)
        offer("1.0.0");
        String out = executeCommand("itcenter:publish " + String.format(FEATURES, "1.0.0"), new org.apache.karaf.jaas.boot.principal.RolePrincipal("admin"));
        assertTrue(out, out.contains("ferry-sample/1.0.0"));
        awaitRepository();
        assertEquals(1, repository.releases().stream().filter(r -> r.name().equals("ferry-sample/1.0.0")).count());
        ReferenceValue v1 = itc.referenceValues().stream()
                .filter(v -> v.component().equals("io.ferry.sample") && v.version().equals("1.0.0")).findFirst().orElseThrow();
        assertEquals("ferry-sample/1.0.0", v1.release());

        try {
            sh(root, "dist_unpack " + agent + " && dist_ports " + agent + " " + AGENT_PORT_OFFSET);
            Files.writeString(agent.resolve("etc/io.ferry.tpm.cfg"), "device = device\ndevice.path = " + NO_TPM + "\n");
            Path mvnCfg = agent.resolve("etc/org.ops4j.pax.url.mvn.cfg");
            String cfg = Files.readString(mvnCfg).replaceAll("(?m)^org\\.ops4j\\.pax\\.url\\.mvn\\.repositories *=.*$",
                    "org.ops4j.pax.url.mvn.repositories = https://127.0.0.1:" + PORT + "/repository@id=ferry-itcenter");
            Files.writeString(mvnCfg, cfg + "\norg.ops4j.pax.url.mvn.certificateCheck = true\n");

            // without the IT center's root in its trust store the agent cannot use the repository
            start(root, agent);
            String tpm = run(root, "dist_cmd " + agent + " tpm:info").output();
            assertTrue(tpm, tpm.contains("TPM unavailable") && tpm.contains(NO_TPM));
            String refused = cmd(root, agent, "feature:repo-add " + String.format(FEATURES, "1.0.0"), false);
            assertTrue(refused, refused.contains("PKIX path building failed"));
            System.out.println("Without the IT center's root: " + refused);
            assertFalse(refused, cmd(root, agent, "feature:repo-list", true).contains("ferry-sample"));
            sh(root, "dist_stop " + agent);

            // trusting it (a trust store with the IT center's root; in the field its fingerprint is checked out of band)
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ferry-itcenter", itc.rootCertificate());
            try (OutputStream o = Files.newOutputStream(agent.resolve("etc/ferry-itcenter-trust.p12"))) {
                trust.store(o, "ferry-trust".toCharArray());
            }
            Files.writeString(agent.resolve("etc/system.properties"), Files.readString(agent.resolve("etc/system.properties"))
                    + "\njavax.net.ssl.trustStore = ${karaf.etc}/ferry-itcenter-trust.p12\n"
                    + "javax.net.ssl.trustStoreType = PKCS12\njavax.net.ssl.trustStorePassword = ferry-trust\n");
            start(root, agent);
            cmd(root, agent, "feature:repo-add " + String.format(FEATURES, "1.0.0"), true);
            cmd(root, agent, "feature:install --no-auto-refresh ferry-sample", true);
            assertEquals(logTail(agent), "1.0.0", awaitSampleVersion(root, agent, "1.0.0"));

            // a new version: published, then the agent upgrades
            offer("1.1.0");
            out = executeCommand("itcenter:publish " + String.format(FEATURES, "1.1.0"), new org.apache.karaf.jaas.boot.principal.RolePrincipal("admin"));
            assertTrue(out, out.contains("ferry-sample/1.1.0"));
            cmd(root, agent, "feature:repo-add " + String.format(FEATURES, "1.1.0"), true);
            cmd(root, agent, "feature:install -u --no-auto-refresh ferry-sample/1.1.0", true);
            assertEquals(logTail(agent), "1.1.0", awaitSampleVersion(root, agent, "1.1.0"));

            // 1.2.0 is published, then its bundle is changed on the IT center's disk: not served, the upgrade
            // fails and 1.1.0 keeps running
            offer("1.2.0");
            repository.publish(String.format(FEATURES, "1.2.0"), null, "itest");
            Path published = Path.of(System.getProperty("karaf.data"),
                    "itcenter/repository/io/ferry/test/ferry-sample/1.2.0/ferry-sample-1.2.0.jar");
            Files.write(published, bundle("1.2.0", "tampered"));
            cmd(root, agent, "feature:repo-add " + String.format(FEATURES, "1.2.0"), true);
            cmd(root, agent, "feature:install -u --no-auto-refresh ferry-sample/1.2.0", false);
            assertEquals(logTail(agent), "1.1.0", awaitSampleVersion(root, agent, "1.1.0"));
            assertTrue(itc.audit(new AuditQuery(null, null, "repository.mismatch", null, 100)).size() >= 1);
        } finally {
            sh(root, "dist_stop " + agent + "; rm -rf " + agent.getParent());
        }

        // the registry: three releases of the feature, a reference value for each bundle version, three audit events
        assertEquals(3, repository.releases().stream().filter(r -> r.feature().equals("ferry-sample")).count());
        for (String v : List.of("1.0.0", "1.1.0", "1.2.0")) {
            assertTrue(v, itc.referenceValues().stream().anyMatch(r -> r.component().equals("io.ferry.sample")
                    && r.version().equals(v) && r.release().equals("ferry-sample/" + v)));
        }
        assertEquals(3, itc.audit(new AuditQuery(null, null, "update.published", null, 100)).size());

        // GET /api/v1/releases: for an agent with its certificate, not for anyone else
        HttpClient anonymous = client(null, itc);
        assertEquals(401, anonymous.send(get("/api/v1/releases"), HttpResponse.BodyHandlers.ofString()).statusCode());
        HttpResponse<String> releases = client(enrol(itc), itc).send(get("/api/v1/releases"),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(releases.body(), 200, releases.statusCode());
        assertTrue(releases.body(), releases.body().contains("\"repository\":\"" + String.format(FEATURES, "1.1.0") + "\""));
        // the repository itself needs no certificate, and serves nothing that was not published
        assertEquals(200, anonymous.send(get("/repository/io/ferry/test/ferry-sample/1.1.0/ferry-sample-1.1.0.jar"),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(404, anonymous.send(get("/repository/io/ferry/test/ferry-sample/9.9.9/ferry-sample-9.9.9.jar"),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(500, anonymous.send(get("/repository/io/ferry/test/ferry-sample/1.2.0/ferry-sample-1.2.0.jar"),
                HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    /** Puts the sample bundle and a features XML listing it into the IT center's system folder. */
    private static void offer(String version) throws IOException {
        Path system = Path.of(System.getProperty("karaf.home"), "system", "io", "ferry", "test");
        Path jar = system.resolve("ferry-sample/" + version + "/ferry-sample-" + version + ".jar");
        Files.createDirectories(jar.getParent());
        Files.write(jar, bundle(version, "sample " + version));
        Path xml = system.resolve("ferry-sample-features/" + version + "/ferry-sample-features-" + version + "-features.xml");
        Files.createDirectories(xml.getParent());
        Files.writeString(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<features name=\"ferry-sample-" + version + "\" xmlns=\"http://karaf.apache.org/xmlns/features/v1.6.0\">\n"
                + "  <feature name=\"ferry-sample\" version=\"" + version + "\">\n"
                + "    <bundle>mvn:io.ferry.test/ferry-sample/" + version + "</bundle>\n"
                + "  </feature>\n</features>\n");
    }

    private static byte[] bundle(String version, String content) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Bundle-ManifestVersion", "2");
        m.getMainAttributes().putValue("Bundle-SymbolicName", "io.ferry.sample");
        m.getMainAttributes().putValue("Bundle-Version", version);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(out, m)) {
            jar.putNextEntry(new JarEntry("sample.txt"));
            jar.write(content.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    private void awaitRepository() throws Exception {
        HttpClient anonymous = client(null, getOsgiService(ItCenter.class));
        long end = System.currentTimeMillis() + 60_000;
        while (true) {
            try {
                if (anonymous.send(get("/repository/io/ferry/test/ferry-sample/maven-metadata.xml"),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // HTTPS not up yet
            }
            assertTrue("the repository did not come up", System.currentTimeMillis() < end);
            Thread.sleep(500);
        }
    }

    /** The installed version once it is the expected one and active, or what is there after 60 s. */
    private static String awaitSampleVersion(Path root, Path agent, String expected) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        String version = installedSampleVersion(root, agent, false);
        while (!expected.equals(version) && System.currentTimeMillis() < deadline) {
            Thread.sleep(1000);
            version = installedSampleVersion(root, agent, false);
        }
        return installedSampleVersion(root, agent, true);
    }

    /** The active sample bundle's version; with {@code strict}, a bundle that is there but not active fails. */
    private static String installedSampleVersion(Path root, Path agent, boolean strict) throws Exception {
        String list = cmd(root, agent, "bundle:list -s -t 0", true);
        String version = null;
        for (String line : list.split("\n")) {
            if (line.contains("io.ferry.sample")) {
                if (!line.contains("Active")) {
                    assertTrue(line + "\n" + logTail(agent), !strict);
                    continue;
                }
                if (version != null && !strict) {
                    return null; // an upgrade in progress: old and new side by side for a moment
                }
                assertEquals("one io.ferry.sample bundle: " + list, null, version);
                String[] columns = line.split("[│|]");
                version = columns[columns.length - 2].strip();
            }
        }
        return version;
    }

    private static void start(Path root, Path agent) throws Exception {
        // until Karaf has published BootFinished (after the last boot feature is provisioned and the features
        // service recorded it): "ferry-agent Started" in feature:list shows earlier, while bundles still start
        sh(root, "\"" + agent + "/bin/start\" >/dev/null; deadline=$((SECONDS + 180)); "
                + "until dist_cmd " + agent + " 'service:list org.apache.karaf.features.BootFinished' 2>/dev/null "
                + "| grep -q '^\\[org.apache.karaf.features.BootFinished\\]'; do "
                + "[ $SECONDS -lt $deadline ] || { tail -50 " + agent + "/data/log/karaf.log; exit 1; }; sleep 1; done");
        String features = cmd(root, agent, "feature:list -i", true);
        assertTrue(features, features.lines().anyMatch(l -> l.startsWith("ferry-agent ") && l.contains("Started")));
    }

    private static String cmd(Path root, Path agent, String command, boolean mustSucceed) throws Exception {
        Result r = run(root, "dist_cmd " + agent + " '" + command + "'");
        if (mustSucceed) {
            assertEquals(command + ":\n" + r.output() + "\n" + logTail(agent), 0, r.exit());
        } else {
            assertTrue(command + " should have failed:\n" + r.output(), r.exit() != 0);
        }
        return r.output();
    }

    private static String logTail(Path agent) {
        try {
            List<String> lines = Files.readAllLines(agent.resolve("data/log/karaf.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    private record Result(int exit, String output) {
    }

    private static void sh(Path root, String script) throws Exception {
        Result r = run(root, script);
        assertEquals(script + ":\n" + r.output(), 0, r.exit());
    }

    private static Result run(Path root, String script) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", "source scripts/distribution.sh; " + script).directory(root.toFile())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue("timed out: " + script, p.waitFor(5, TimeUnit.MINUTES));
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** A registered agent's key and certificate chain, as a key store. */
    private static KeyStore enrol(ItCenter itc) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        String publicPem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(kp.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        Enrolment e = itc.registerAgent(new AgentRegistration("repo-agent", "alice", "home", publicPem), "itest");
        Certificate[] chain = CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(e.certificate().pem().getBytes(StandardCharsets.US_ASCII)))
                .toArray(new Certificate[0]);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("agent", kp.getPrivate(), "k".toCharArray(), chain);
        return ks;
    }

    private static HttpClient client(KeyStore keys, ItCenter itc) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", itc.rootCertificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(keys, "k".toCharArray());
        SSLContext ssl = SSLContext.getInstance("TLSv1.3");
        ssl.init(keys == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
    }

    private static HttpRequest get(String path) {
        return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + PORT + path)).timeout(Duration.ofSeconds(30))
                .GET().build();
    }
}
