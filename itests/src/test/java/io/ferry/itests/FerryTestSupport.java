package io.ferry.itests;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Dictionary;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import org.apache.karaf.itests.KarafTestSupport;
import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.junit.After;
import org.junit.Rule;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.CoreOptions;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.container.remote.RBCRemoteTargetOptions;
import org.ops4j.pax.exam.options.MavenArtifactUrlReference;
import org.ops4j.pax.exam.options.TimeoutOption;
import org.osgi.framework.ServiceReference;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealStorage;

/**
 * What every Ferry integration test shares: the Ferry distribution instead of plain Karaf,
 * shorter timeouts than KarafTestSupport's hour, and Maven Central for the probe's own bundles
 * (the distribution itself is offline by design). Subclasses add their options in
 * {@link #ferryOptions(List)}; Pax Exam finds the inherited {@code @Configuration}.
 *
 * <p>Also what several tests do alike: the testbed's swtpm as the distribution's TPM ({@link #testbedTpm}),
 * an IT center that enrols agents with that TPM ({@link #enrolmentOptions}), and the IT center's approval
 * of the platform state for seal storage ({@link #newApprovalKey}, {@link #configureApprovalKey},
 * {@link #signApproval}, {@link #approvePlatform}).
 */
public abstract class FerryTestSupport extends KarafTestSupport {

    /** A TPM device path that cannot exist (its folder does not): the TPM is unavailable at once. */
    public static final String NO_TPM = "/nonexistent/ferry-itest-no-tpm";

    /** A failed step must not be retried behind our back: migrations, approvals and counters move on. */
    @Rule
    public Retry retry = new Retry(false);

    @Override
    public MavenArtifactUrlReference getKarafDistribution() {
        return CoreOptions.maven().groupId("io.ferry").artifactId("ferry-karaf-assembly").versionAsInProject()
                .type("tar.gz");
    }

    @Configuration
    @Override
    public Option[] config() {
        List<Option> options = new ArrayList<>();
        for (Option o : super.config()) {
            if (!(o instanceof TimeoutOption) && !o.getClass().getName().contains("RBCLookupTimeoutOption")) {
                options.add(o);
            }
        }
        options.add(CoreOptions.systemTimeout(600_000));
        options.add(RBCRemoteTargetOptions.waitForRBCFor(600_000));
        options.add(editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg", "org.ops4j.pax.url.mvn.repositories",
                "https://repo1.maven.org/maven2@id=central"));
        // No TPM unless the test names one (testbedTpm): the distribution's default, swtpm at 127.0.0.1:2321,
        // is whichever testbed host got index 0 (ita on a clean clone, nobody's in a long-used tree), which
        // made the same test run with or without a shared TPM depending on the checkout
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "device", "device"));
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "device.path", NO_TPM));
        ferryOptions(options);
        return options.toArray(new Option[0]);
    }

    /** Adds the test's own options (configuration files, system properties). */
    protected abstract void ferryOptions(List<Option> options);

    // ---- the testbed's TPM ------------------------------------------------------------------------

    /** The first test host's name in upper case (ita: ITA), as testbed/hosts.env names its variables. */
    private static String firstHost() {
        return System.getProperty("ferry.itest.hosts", "ita itb").split(" ")[0].toUpperCase(Locale.ROOT);
    }

    /** Points the distribution's TPM at the first test host's swtpm (ita's); returns its address, host:port. */
    protected static String testbedTpm(List<Option> options) {
        String tpm = Testbed.load().get("FERRY_HOST_" + firstHost() + "_TPM");
        int colon = tpm.lastIndexOf(':');
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "device", "swtpm"));
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "swtpm.host", tpm.substring(0, colon)));
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "swtpm.port", tpm.substring(colon + 1)));
        return tpm;
    }

    /**
     * swtpm serves one client at a time: a test that used a testbed swtpm lets it go at the end, so that the
     * next class's distribution can connect. A test without one (the default, {@link #NO_TPM}) does nothing.
     */
    @After
    public void releaseTpm() {
        try {
            Dictionary<String, Object> tpm = configurationAdmin.getConfiguration("io.ferry.tpm", null).getProperties();
            if (tpm != null && "swtpm".equals(tpm.get("device"))) {
                executeCommand("tpm:release", 60_000L, false, ADMIN);
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("tpm:release: " + e.getMessage());
        }
    }

    // ---- an IT center that enrols agents (EnrolmentIT, AttestationIT) ----------------------------

    /**
     * The distribution as IT center and agent at once: the testbed's TPM, seal storage on PCR 23, the IT
     * center's HTTPS on {@code httpsPort}, the testbed's swtpm local CA as the only TPM vendor it trusts (EK
     * certificates), and ferry-enrolment's bundles from the build's local repository (it is not a boot or
     * installed feature of the distribution).
     */
    protected static void enrolmentOptions(List<Option> options, int httpsPort) {
        testbedTpm(options);
        options.add(editConfigurationFilePut("etc/io.ferry.seal.cfg", "measurement.pcr", "23"));
        options.add(editConfigurationFilePut("etc/io.ferry.itcenter.cfg", "https.port", String.valueOf(httpsPort)));
        try {
            Path ca = Path.of(Testbed.load().get("FERRY_HOST_" + firstHost() + "_SWTPM_CA"));
            Path dir = Files.createTempDirectory("ferry-ek-ca");
            Files.copy(ca.resolve("issuercert.pem"), dir.resolve("issuercert.pem"));
            Files.copy(ca.resolve("swtpm-localca-rootca-cert.pem"), dir.resolve("rootca.pem"));
            options.add(editConfigurationFilePut("etc/io.ferry.itcenter.enrolment.cfg", "ek.ca.dir", dir.toString()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        options.add(editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg", "org.ops4j.pax.url.mvn.localRepository",
                System.getProperty("user.home") + "/.m2/repository"));
    }

    /** Waits until something listens on the local port (the IT center's HTTPS), at most {@code max}. */
    protected static void awaitPort(int port, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException e) {
                Thread.sleep(250);
            }
        }
        fail("the IT center's HTTPS port " + port + " did not open within " + max);
    }

    // ---- the console and services, as an administrator uses them ----------------------------------

    private static final RolePrincipal ADMIN = new RolePrincipal("admin");

    /** Runs a console command as an administrator (at most 2 minutes) and returns what it printed. */
    protected String adminCommand(String command) {
        return executeCommand(command, 120_000L, false, ADMIN);
    }

    /**
     * Runs a console command as an administrator (at most 5 minutes) whose service may still be (re)starting:
     * the IT center's components restart when seal storage gets its approval. Only "not running"/"failed to
     * start" is retried, for up to 60 s.
     */
    protected String adminCommandWhenUp(String command) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            try {
                return executeCommand(command, 300_000L, false, ADMIN);
            } catch (RuntimeException e) {
                String m = String.valueOf(e.getMessage());
                if (!(m.contains("failed to start") || m.contains("not running")) || System.currentTimeMillis() > deadline) {
                    throw e;
                }
                Thread.sleep(500);
            }
        }
    }

    /** A console command that must fail, with one line that names every expected part. */
    protected void assertAdminCommandFails(String command, String... expected) {
        String message;
        try {
            String out = adminCommand(command);
            fail("'" + command + "' should have failed, printed: " + out);
            return;
        } catch (RuntimeException e) {
            message = String.valueOf(e.getMessage());
        }
        for (String part : expected) {
            assertTrue("'" + command + "' failed with: " + message + "\nexpected: " + part, message.contains(part));
        }
        assertFalse("one line: " + message, message.contains("\n"));
    }

    /** The service of that type as registered now (no waiting); fails when there is none. */
    protected <T> T serviceNow(Class<T> type) {
        ServiceReference<T> ref = bundleContext.getServiceReference(type);
        assertNotNull("no " + type.getSimpleName() + " service", ref);
        return bundleContext.getService(ref);
    }

    // ---- seal storage: the IT center's approval of the platform state -----------------------------

    /** A fresh P-256 key pair (the IT center's approval key in these tests). */
    protected static KeyPair newApprovalKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    /**
     * Sets {@code approval.key.pem} of io.ferry.seal to the key's public half, as an operator configures it,
     * and waits (at most {@code max}) until seal:status shows that key: seal storage restarts with it.
     */
    protected void configureApprovalKey(KeyPair key, Duration max) throws Exception {
        org.osgi.service.cm.Configuration cfg = configurationAdmin.getConfiguration("io.ferry.seal", null);
        Dictionary<String, Object> props = cfg.getProperties();
        assertNotNull("io.ferry.seal is configured by the feature", props);
        props.put("approval.key.pem", "-----BEGIN PUBLIC KEY-----"
                + Base64.getEncoder().encodeToString(key.getPublic().getEncoded()) + "-----END PUBLIC KEY-----");
        cfg.update(props);
        String fingerprint = "Approval key:     "
                + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getPublic().getEncoded()));
        long deadline = System.nanoTime() + max.toNanos();
        String last = "";
        while (!last.contains(fingerprint)) {
            if (System.nanoTime() > deadline) {
                fail("seal storage did not take the approval key within " + max + ": " + last);
            }
            Thread.sleep(200);
            try {
                last = executeCommand("seal:status", 60_000L, false, ADMIN);
            } catch (RuntimeException e) {
                last = String.valueOf(e.getMessage()); // the component is being re-activated
            }
        }
    }

    /** The IT center's answer to an approval request: its signature over the request at that version. */
    protected static Approval signApproval(PrivateKey key, ApprovalRequest request, long version) throws Exception {
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(key);
        s.update(request.signedMessage(version));
        return new Approval(version, request.pcrs(), s.sign());
    }

    /**
     * Approves the platform state as it is now, as an operator does: seal storage's request, signed with the
     * key at version {@code max(minimum the TPM counter allows, atLeast)}, installed with seal:approve.
     * Returns that version.
     */
    protected long approvePlatform(KeyPair key, long atLeast) throws Exception {
        ApprovalRequest request = getOsgiService(SealStorage.class, 60_000).approvalRequest();
        long version = Math.max(request.minimumVersion(), atLeast);
        Path dir = Files.createDirectories(Path.of(System.getProperty("karaf.data"), "ferry-it-approvals"));
        Approval approval = signApproval(key.getPrivate(), request, version);
        Path file = Files.write(dir.resolve("v" + version + ".approval"), approval.toBytes());
        String out = executeCommand("seal:approve " + file, 60_000L, false, ADMIN);
        assertTrue(out, out.contains("Installed approval version " + version));
        return version;
    }
}
