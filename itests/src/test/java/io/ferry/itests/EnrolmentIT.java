package io.ferry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.time.Duration;
import java.util.Base64;
import java.util.Dictionary;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.ServiceReference;

import io.ferry.api.channel.AgentCredentials;
import io.ferry.api.enrolment.AgentEnrolment;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealStorage;

/**
 * Attested enrolment end to end (issue 5, item 2): one distribution runs the IT center and the agent
 * against testbed host ita's swtpm (whose EK certificate the testbed's swtpm local CA signed, configured
 * as the IT center's TPM vendor CA). The administrator invites the device, the agent enrols over HTTPS
 * with the token and the pinned root, its ItCenterLink then calls the API with the issued certificate,
 * AgentCredentials appear, agent:status shows it all, and the same token is refused the second time.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class EnrolmentIT extends FerryTestSupport {

    private static final RolePrincipal ADMIN = new RolePrincipal("admin");
    private static final int PORT = 18463;
    private static final String URL = "https://127.0.0.1:" + PORT + "/";

    @Override
    protected void ferryOptions(List<Option> options) {
        Testbed testbed = Testbed.load();
        String host = System.getProperty("ferry.itest.hosts", "ita itb").split(" ")[0].toUpperCase(Locale.ROOT);
        String tpm = testbed.get("FERRY_HOST_" + host + "_TPM");
        int colon = tpm.lastIndexOf(':');
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "device", "swtpm"));
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "swtpm.host", tpm.substring(0, colon)));
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "swtpm.port", tpm.substring(colon + 1)));
        options.add(editConfigurationFilePut("etc/io.ferry.seal.cfg", "measurement.pcr", "23"));
        options.add(editConfigurationFilePut("etc/io.ferry.itcenter.cfg", "https.port", String.valueOf(PORT)));
        // the IT center trusts the testbed's swtpm local CA as a TPM vendor: its certificates only
        try {
            Path ca = Path.of(testbed.get("FERRY_HOST_" + host + "_SWTPM_CA"));
            Path dir = Files.createTempDirectory("ferry-ek-ca");
            Files.copy(ca.resolve("issuercert.pem"), dir.resolve("issuercert.pem"));
            Files.copy(ca.resolve("swtpm-localca-rootca-cert.pem"), dir.resolve("rootca.pem"));
            options.add(editConfigurationFilePut("etc/io.ferry.itcenter.enrolment.cfg", "ek.ca.dir", dir.toString()));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        // ferry-enrolment is not (yet) a boot or installed feature of the distribution: its bundles come from
        // the build's local repository
        options.add(editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg", "org.ops4j.pax.url.mvn.localRepository",
                System.getProperty("user.home") + "/.m2/repository"));
    }

    /** swtpm serves one client at a time: never keep host ita's TPM after this class. */
    @After
    public void releaseTpm() {
        try {
            console("tpm:release");
        } catch (RuntimeException e) {
            System.err.println("tpm:release: " + e.getMessage());
        }
    }

    @Test
    public void agentEnrolsAtItsItCenterAndCallsItWithTheIssuedCertificate() throws Exception {
        installAndAssertFeature("ferry-itcenter");
        installAndAssertFeature("ferry-enrolment");
        getOsgiService(ItCenter.class, 60_000);
        awaitPort(PORT, Duration.ofSeconds(60));
        // seal storage keeps the agent's key: give it the IT center's approval of the platform as it is now
        // (after the features above were measured)
        approvePlatform();

        awaitService(AgentEnrolment.class);
        assertContains("Enrolled:     no", console("agent:status"));

        String invite = console("itcenter:invite -o alice -g home ita-agent");
        String token = group(invite, "token:\\s+(\\S+)");
        String root = group(invite, "IT center root:\\s+([0-9a-f]{64})");
        assertEquals(sha256Hex(itc().rootCertificate().getEncoded()), root);

        // a wrong pin: refused before anything is sent, naming the root the IT center presented
        assertConsoleError("agent:enrol -t " + token + " -r " + "00".repeat(32) + " " + URL + " ita-agent",
                "untrusted", root);

        String enrol = console("agent:enrol -t " + token + " -r " + root + " " + URL + " ita-agent");
        assertContains("Reading the EK certificate from the TPM", enrol);
        assertContains("Activating the credential in the TPM", enrol);
        assertContains("Quoting SHA-256 of the TLS public key", enrol);
        String agentId = group(enrol, "Enrolled as agent (\\S+) ");
        assertContains("Enrolled: agent " + agentId, enrol);

        // the link calls the API with the issued certificate
        ItCenterLink link = service(ItCenterLink.class);
        assertTrue(link.enrolled());
        String me = link.call("GET", "agents/" + agentId, null, Duration.ofSeconds(30));
        assertContains("\"name\":\"ita-agent\"", me);
        assertContains("\"owner\":\"alice\"", me);
        AgentCredentials credentials = getOsgiService(AgentCredentials.class, 30_000);
        assertEquals(agentId, credentials.agentId());
        credentials.trustManager().checkClientTrusted(credentials.certificateChain(), "ECDHE_ECDSA");

        String status = console("agent:status");
        assertContains("Enrolled:     yes", status);
        assertContains("Agent id:     " + agentId, status);
        assertContains("IT center:    " + URL, status);
        assertContains("Root SHA-256: " + root, status);
        assertContains("Reachable:    yes", status);

        assertEquals(1, itc().audit(new AuditQuery(agentId, null, "enrolment.completed", null, 10)).size());

        // the same token again: refused by the IT center, nothing registered, the refusal audited
        int refusedBefore = itc().audit(new AuditQuery(null, null, "enrolment.refused", null, 100)).size();
        assertConsoleError("agent:enrol --force -t " + token + " -r " + root + " " + URL + " ita-agent",
                "refused", "used already");
        assertEquals(refusedBefore + 1, itc().audit(new AuditQuery(null, null, "enrolment.refused", null, 100)).size());
        assertEquals(1, itc().agents().stream().filter(a -> a.name().equals("ita-agent")).count());
        // and the agent keeps its identity
        assertContains("Agent id:     " + agentId, console("agent:status"));
    }

    // ---- seal storage's approval, as the IT center would give it ------------------------------

    private void approvePlatform() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        KeyPair key = g.generateKeyPair();
        org.osgi.service.cm.Configuration cfg = configurationAdmin.getConfiguration("io.ferry.seal", null);
        Dictionary<String, Object> props = cfg.getProperties();
        assertNotNull("io.ferry.seal is configured by the feature", props);
        props.put("approval.key.pem", "-----BEGIN PUBLIC KEY-----"
                + Base64.getEncoder().encodeToString(key.getPublic().getEncoded()) + "-----END PUBLIC KEY-----");
        cfg.update(props);
        String fingerprint = "Approval key:     " + sha256Hex(key.getPublic().getEncoded());
        long deadline = System.currentTimeMillis() + 30_000;
        String last = "";
        while (!last.contains(fingerprint)) {
            if (System.currentTimeMillis() > deadline) {
                fail("seal storage did not take the approval key within 30 s: " + last);
            }
            Thread.sleep(200);
            try {
                last = console("seal:status");
            } catch (RuntimeException e) {
                last = String.valueOf(e.getMessage());
            }
        }
        SealStorage seal = service(SealStorage.class);
        ApprovalRequest request = seal.approvalRequest();
        long version = request.minimumVersion();
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(key.getPrivate());
        s.update(request.signedMessage(version));
        seal.approve(new Approval(version, request.pcrs(), s.sign()));
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static void awaitPort(int port, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (java.io.IOException e) {
                Thread.sleep(250);
            }
        }
        fail("the IT center's HTTPS port " + port + " did not open within " + max);
    }

    /** Waits for a service; on failure shows what Declarative Services says about the enrolment components. */
    private void awaitService(Class<?> type) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (bundleContext.getServiceReference(type) == null) {
            if (System.currentTimeMillis() > deadline) {
                String why;
                try {
                    why = console("scr:info io.ferry.enrolment.internal.TpmEnrolment") + "\n"
                            + console("scr:info io.ferry.enrolment.internal.ItCenterLinkService") + "\n"
                            + console("bundle:list -t 0 | grep -i ferry");
                } catch (RuntimeException e) {
                    why = e.toString();
                }
                fail("no " + type.getSimpleName() + " service within 60 s:\n" + why);
            }
            Thread.sleep(200);
        }
    }

    /** The IT center as it is now (its component restarts when the HTTP service is reconfigured). */
    private ItCenter itc() {
        return getOsgiService(ItCenter.class, 30_000);
    }

    private <T> T service(Class<T> type) {
        ServiceReference<T> ref = bundleContext.getServiceReference(type);
        assertNotNull("no " + type.getSimpleName() + " service", ref);
        return bundleContext.getService(ref);
    }

    private String console(String command) {
        return executeCommand(command, 120_000L, false, ADMIN);
    }

    private void assertConsoleError(String command, String... expected) {
        String message;
        try {
            String out = console(command);
            fail("'" + command + "' should have failed, printed: " + out);
            return;
        } catch (RuntimeException e) {
            message = String.valueOf(e.getMessage());
        }
        for (String part : expected) {
            assertTrue("'" + command + "' failed with: " + message + "\nexpected: " + part, message.contains(part));
        }
    }

    private static String group(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue("no " + regex + " in:\n" + text, m.find());
        return m.group(1);
    }

    private static String sha256Hex(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
