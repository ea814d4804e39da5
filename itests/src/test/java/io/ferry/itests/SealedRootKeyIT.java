package io.ferry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Dictionary;
import java.util.List;
import java.util.Locale;

import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.ServiceReference;

import io.ferry.api.itcenter.AgentRegistration;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealStorage;
import io.ferry.api.tpm.Tpm;

/**
 * The IT center's root key passphrase in seal storage, against testbed host ita's swtpm: an IT
 * center started before seal storage can seal keeps the passphrase file; once seal storage has its
 * approval, the next start seals the passphrase, deletes the file and opens the same root key; after
 * an unapproved PCR change the IT center does not start (no fallback), and after the IT center's
 * approval of the new value it starts again with the same root.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SealedRootKeyIT extends FerryTestSupport {

    private static final RolePrincipal ADMIN = new RolePrincipal("admin");
    private static final int PCR = 23;

    @Override
    protected void ferryOptions(List<Option> options) {
        Testbed testbed = Testbed.load();
        String host = System.getProperty("ferry.itest.hosts", "ita itb").split(" ")[0];
        String tpm = testbed.get("FERRY_HOST_" + host.toUpperCase(Locale.ROOT) + "_TPM");
        int colon = tpm.lastIndexOf(':');
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "device", "swtpm"));
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "swtpm.host", tpm.substring(0, colon)));
        options.add(editConfigurationFilePut("etc/io.ferry.tpm.cfg", "swtpm.port", tpm.substring(colon + 1)));
        options.add(editConfigurationFilePut("etc/io.ferry.seal.cfg", "measurement.pcr", String.valueOf(PCR)));
        options.add(editConfigurationFilePut("etc/io.ferry.itcenter.cfg", "https.port", "18843"));
    }

    /** swtpm serves one client at a time: never keep host ita's TPM after this class. */
    @After
    public void releaseTpm() {
        try {
            executeCommand("tpm:release", 60_000L, false, ADMIN);
        } catch (RuntimeException e) {
            System.err.println("tpm:release: " + e.getMessage());
        }
    }

    @Test
    public void theRootKeyPassphraseMovesIntoSealStorageAndIsNeverReadFromAFileAgain() throws Exception {
        Path passFile = Path.of(System.getProperty("karaf.data"), "itcenter", "ca", "root.pass");
        installAndAssertFeature("ferry-itcenter");
        ItCenter itc = awaitItCenter(null);
        X509Certificate root = itc.rootCertificate();
        // seal storage has no approval key yet (it offers no service then): the passphrase stays in its file
        assertTrue("passphrase file before seal storage can seal", Files.exists(passFile));
        ServiceReference<SealStorage> none = bundleContext.getServiceReference(SealStorage.class);
        assertTrue(none == null || !bundleContext.getService(none).list().contains("itcenter.ca.passphrase"));

        // the IT center's approval key and an approval of the current PCR values
        KeyPair approvalKey = ecKey();
        configureApprovalKey(approvalKey);
        ApprovalRequest request = service(SealStorage.class).approvalRequest();
        long version = request.minimumVersion();
        service(SealStorage.class).approve(sign(approvalKey.getPrivate(), request, version));

        // the next start seals the passphrase once and deletes the file; the same root key opens
        itc = restartItCenter();
        assertFalse("the passphrase file is deleted once sealed", Files.exists(passFile));
        assertTrue(service(SealStorage.class).list().contains("itcenter.ca.passphrase"));
        assertEquals(root, itc.rootCertificate());
        assertNotNull(itc.registerAgent(new AgentRegistration("sealed-ca-agent", "alice", "home", publicKeyPem()),
                "itest").certificate());

        // an unapproved change of the platform: the passphrase does not unseal and the IT center does not start,
        // even with a passphrase file put back
        Files.writeString(passFile, "a passphrase someone put back");
        service(Tpm.class).extendPcr(PCR, MessageDigest.getInstance("SHA-256")
                .digest("ferry-it: an unapproved change".getBytes(StandardCharsets.UTF_8)));
        Object before = bundleContext.getServiceReference(ItCenter.class).getProperty("service.id");
        touchItCenterConfiguration();
        ItCenter refused = awaitItCenterOrNull(before);
        assertEquals("no IT center after an unapproved PCR change", null, refused);
        String log = Files.readString(Path.of(System.getProperty("karaf.data"), "log", "karaf.log"));
        assertTrue("the IT center says why it did not start",
                log.contains("cannot unseal the root key passphrase (itcenter.ca.passphrase)"));

        // the IT center's approval of the new value: it starts again, with the same root; the stray file is gone
        ApprovalRequest request2 = service(SealStorage.class).approvalRequest();
        service(SealStorage.class).approve(sign(approvalKey.getPrivate(), request2, version + 1));
        itc = restartItCenter();
        assertEquals(root, itc.rootCertificate());
        assertFalse(Files.exists(passFile));
    }

    /** Changes the IT center's configuration (a value it ignores), which restarts its component. */
    private void touchItCenterConfiguration() throws Exception {
        org.osgi.service.cm.Configuration cfg = configurationAdmin.getConfiguration("io.ferry.itcenter", null);
        Dictionary<String, Object> props = cfg.getProperties();
        props.put("itest.restart", String.valueOf(System.nanoTime()));
        cfg.update(props);
    }

    private ItCenter restartItCenter() throws Exception {
        Object before = bundleContext.getServiceReference(ItCenter.class).getProperty("service.id");
        touchItCenterConfiguration();
        return awaitItCenter(before);
    }

    private ItCenter awaitItCenter(Object oldId) throws Exception {
        ItCenter itc = awaitItCenterOrNull(oldId);
        assertNotNull("the IT center did not start", itc);
        return itc;
    }

    /** The IT center service registered after {@code oldId} and activated, or null if it does not come up in 20 s. */
    private ItCenter awaitItCenterOrNull(Object oldId) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            ServiceReference<ItCenter> ref = bundleContext.getServiceReference(ItCenter.class);
            if (ref != null && !ref.getProperty("service.id").equals(oldId)) {
                ItCenter itc = bundleContext.getService(ref);
                if (itc != null) {
                    return itc;
                }
            }
            Thread.sleep(200);
        }
        return null;
    }

    private static KeyPair ecKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    private static String publicKeyPem() throws Exception {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(ecKey().getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
    }

    private static Approval sign(PrivateKey key, ApprovalRequest request, long version) throws Exception {
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(key);
        s.update(request.signedMessage(version));
        return new Approval(version, request.pcrs(), s.sign());
    }

    /** Sets approval.key.pem of io.ferry.seal and waits until seal storage runs with that key. */
    private void configureApprovalKey(KeyPair key) throws Exception {
        String pem = "-----BEGIN PUBLIC KEY-----" + Base64.getEncoder().encodeToString(key.getPublic().getEncoded())
                + "-----END PUBLIC KEY-----";
        org.osgi.service.cm.Configuration cfg = configurationAdmin.getConfiguration("io.ferry.seal", null);
        Dictionary<String, Object> props = cfg.getProperties();
        assertNotNull("io.ferry.seal is configured by the feature", props);
        props.put("approval.key.pem", pem);
        cfg.update(props);
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            try {
                ServiceReference<SealStorage> ref = bundleContext.getServiceReference(SealStorage.class);
                if (ref != null && bundleContext.getService(ref) != null
                        && !executeCommand("seal:status", 60_000L, false, ADMIN).contains("no approval key")) {
                    return;
                }
            } catch (RuntimeException e) {
                // being re-activated
            }
            Thread.sleep(200);
        }
        fail("seal storage did not take the approval key within 30 s");
    }

    private <T> T service(Class<T> type) {
        ServiceReference<T> ref = bundleContext.getServiceReference(type);
        assertNotNull("no " + type.getSimpleName() + " service", ref);
        return bundleContext.getService(ref);
    }
}
