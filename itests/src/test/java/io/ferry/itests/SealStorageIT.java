package io.ferry.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Dictionary;
import java.util.HexFormat;
import java.util.List;

import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.ServiceReference;

import io.ferry.api.seal.Approval;
import io.ferry.api.seal.ApprovalRequest;
import io.ferry.api.seal.SealStorage;
import io.ferry.api.tpm.Pcr;
import io.ferry.api.tpm.Tpm;

/**
 * Issue 3 end to end: the real distribution, configured against testbed host ita's swtpm, seals
 * secrets through the console. An approval made here (with an approval key generated here, as the
 * IT center would) unseals; a PCR change makes seal:get fail naming the PCR; a new approval for the
 * new value unseals the same blob without re-sealing; an older approval is refused. At the end the
 * agent lets go of the swtpm (swtpm serves one client at a time) and shows a TPM it cannot reach as
 * unavailable rather than failing.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SealStorageIT extends FerryTestSupport {

    private static final RolePrincipal VIEWER = new RolePrincipal("viewer");
    private static final int PCR = 23;
    private static final String SECRET = "db-password";
    private static final String VALUE = "s3cret-value-1";

    @Override
    protected void ferryOptions(List<Option> options) {
        String tpm = testbedTpm(options);
        options.add(editConfigurationFilePut("etc/io.ferry.seal.cfg", "measurement.pcr", String.valueOf(PCR)));
        options.add(systemProperty("ferry.it.tpm").value(tpm));
    }

    @Test
    public void sealedSecretsFollowTheApprovedPlatformState() throws Exception {
        String tpmAddress = System.getProperty("ferry.it.tpm");
        Path work = Files.createDirectories(Path.of(System.getProperty("karaf.data"), "ferry-it"));
        Path sealDir = Path.of(System.getProperty("karaf.data"), "ferry", "seal");

        // The TPM, through the console.
        String info = adminCommand("tpm:info");
        assertContains("Device:        swtpm tcp " + tpmAddress, info);
        assertContains("Connected:     yes", info);
        assertTrue(info, info.matches("(?s).*Manufacturer:  \\S+.*"));
        Pcr pcr = serviceNow(Tpm.class).readPcrs(PCR).get(0);
        assertContains("PCR 23  sha256  " + pcr.hex(), adminCommand("tpm:pcrs " + PCR));
        assertEquals(24, adminCommand("tpm:pcrs").lines().filter(l -> l.startsWith("PCR ")).count());
        assertAdminCommandFails("tpm:pcrs 24", "no PCR 24");

        // Seal storage before the IT center's approval key is known: up, and it says why it cannot seal.
        String status = adminCommand("seal:status");
        assertContains("Device:           swtpm tcp " + tpmAddress, status);
        assertContains("PCR policy:       PCR 23 (sha256)", status);
        assertContains("Approval version: none installed", status);
        assertContains("Secrets:          0", status);
        assertContains("Unsealable:       no: no approval key", status);
        assertAdminCommandFails("seal:put " + SECRET + " " + VALUE, "Wrong or missing approval key", "no approval key");

        // The IT center's approval key: generated here, its public half configured as an operator would.
        KeyPair itCenter = newApprovalKey();
        configureApprovalKey(itCenter, Duration.ofSeconds(30));
        assertAdminCommandFails("seal:put " + SECRET + " " + VALUE, "No approval installed", "ask the IT center");

        // First approval, for the current PCR value, at the lowest version the TPM counter allows.
        ApprovalRequest request = serviceNow(SealStorage.class).approvalRequest();
        assertEquals(pcr, request.pcrs().get(0));
        String requestText = adminCommand("seal:request");
        assertContains("pcr.23: " + pcr.hex(), requestText);
        assertContains("minimum.version: " + request.minimumVersion(), requestText);
        long v1 = request.minimumVersion();
        Path approval1 = write(work, "v1", signApproval(itCenter.getPrivate(), request, v1));
        assertContains("Installed approval version " + v1 + " for PCR 23 = " + pcr.hex(),
                adminCommand("seal:approve " + approval1));

        // put / get round trip; the value is shown only when asked, and only to admins.
        assertContains("Stored " + SECRET + " (" + VALUE.length() + " bytes)", adminCommand("seal:put " + SECRET + " " + VALUE));
        byte[] binary = new byte[300];
        new SecureRandom().nextBytes(binary);
        Path binaryFile = Files.write(work.resolve("binary.bin"), binary);
        assertContains("Stored tls-key (300 bytes)", adminCommand("seal:put --file " + binaryFile + " tls-key"));
        assertEquals(List.of(SECRET, "tls-key"), adminCommand("seal:list").lines().map(String::strip)
                .filter(l -> !l.isEmpty()).toList());
        String get = adminCommand("seal:get " + SECRET);
        assertContains(SECRET + ": " + VALUE.length() + " bytes, SHA-256 " + sha256Hex(VALUE.getBytes(StandardCharsets.UTF_8)), get);
        assertFalse("seal:get shows the value only with --reveal: " + get, get.contains(VALUE));
        assertContains(VALUE, adminCommand("seal:get --reveal " + SECRET));
        assertContains("tls-key: 300 bytes, SHA-256 " + sha256Hex(binary), adminCommand("seal:get tls-key"));
        assertContains(SECRET, executeCommand("seal:list", 60_000L, false, VIEWER));
        try {
            String out = executeCommand("seal:get --reveal " + SECRET, 60_000L, false, VIEWER);
            fail("a viewer must not run seal:get, printed: " + out);
        } catch (RuntimeException e) {
            assertFalse(String.valueOf(e.getMessage()).contains(VALUE));
        }
        assertAdminCommandFails("seal:get no-such-secret", "No such secret", "no-such-secret");
        byte[] blobBefore = Files.readAllBytes(sealDir.resolve("secrets").resolve(SECRET + ".blob"));
        byte[] kekBefore = Files.readAllBytes(sealDir.resolve("kek-1.sealed"));

        // The platform changes (a measurement into PCR 23): the secret no longer unseals.
        Pcr changed = serviceNow(Tpm.class).extendPcr(PCR, MessageDigest.getInstance("SHA-256")
                .digest("ferry-it: an unapproved update".getBytes(StandardCharsets.UTF_8)));
        assertFalse(changed.equals(pcr));
        assertAdminCommandFails("seal:get " + SECRET, "PCR mismatch", "PCR 23 is " + changed.hex(),
                "approval version " + v1 + " approves " + pcr.hex());
        assertContains("Unsealable:       no: ", adminCommand("seal:status"));

        // The IT center approves the new value: the same blob unseals again, nothing was re-sealed.
        ApprovalRequest request2 = serviceNow(SealStorage.class).approvalRequest();
        assertEquals(changed, request2.pcrs().get(0));
        Path approval2 = write(work, "v2", signApproval(itCenter.getPrivate(), request2, v1 + 1));
        assertContains("Installed approval version " + (v1 + 1), adminCommand("seal:approve " + approval2));
        assertContains(VALUE, adminCommand("seal:get --reveal " + SECRET));
        assertArrayEquals("the blob was not re-encrypted", blobBefore,
                Files.readAllBytes(sealDir.resolve("secrets").resolve(SECRET + ".blob")));
        assertArrayEquals("the KEK was not re-sealed", kekBefore, Files.readAllBytes(sealDir.resolve("kek-1.sealed")));
        status = adminCommand("seal:status");
        assertContains("Approval version: " + (v1 + 1), status);
        assertContains("KEK generation:   1", status);
        assertContains("Unsealable:       yes", status);

        // Older approvals are refused: the first one, and even one for the current value at the old version.
        assertAdminCommandFails("seal:approve " + approval1, "Approval rollback refused", "older than the newest seen");
        Path oldForCurrent = write(work, "old-current", signApproval(itCenter.getPrivate(), request2, v1));
        assertAdminCommandFails("seal:approve " + oldForCurrent, "Approval rollback refused", "version " + v1);
        // An approval by another key is refused as well; the installed approval stays.
        Path forged = write(work, "forged", signApproval(newApprovalKey().getPrivate(), request2, v1 + 2));
        assertAdminCommandFails("seal:approve " + forged, "Wrong or missing approval key", "not signed by the configured");
        assertAdminCommandFails("seal:approve " + work.resolve("missing.approval"), "no approval file");
        assertContains(VALUE, adminCommand("seal:get --reveal " + SECRET));

        // Rotation: a new KEK, every secret re-encrypted and still readable.
        assertContains("Rotated: KEK generation 2, 2 secrets re-encrypted", adminCommand("seal:rotate"));
        assertContains(VALUE, adminCommand("seal:get --reveal " + SECRET));
        assertContains("tls-key: 300 bytes, SHA-256 " + sha256Hex(binary), adminCommand("seal:get tls-key"));

        // Let go of ita's swtpm, then point the agent at a TPM that is not there: it reports, it does not break.
        assertContains("Released the TPM connection", adminCommand("tpm:release"));
        int nowhere = freePort();
        Object oldTpm = bundleContext.getServiceReference(Tpm.class).getProperty("service.id");
        org.osgi.service.cm.Configuration tpmConfig = configurationAdmin.getConfiguration("io.ferry.tpm", null);
        Dictionary<String, Object> props = tpmConfig.getProperties();
        props.put("swtpm.port", String.valueOf(nowhere));
        tpmConfig.update(props);
        awaitNewService(Tpm.class, oldTpm);
        String expected = "swtpm tcp 127.0.0.1:" + nowhere;
        assertAdminCommandFails("tpm:info", "TPM unavailable", expected);
        assertAdminCommandFails("seal:get " + SECRET, "TPM unavailable", expected);
    }

    // ---- the IT center's side ------------------------------------------------------------------

    private static Path write(Path dir, String name, Approval approval) throws Exception {
        return Files.write(dir.resolve(name + ".approval"), approval.toBytes());
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Waits until the service of that type is another registration than {@code oldId} (a reconfiguration). */
    private void awaitNewService(Class<?> type, Object oldId) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            ServiceReference<?> ref = bundleContext.getServiceReference(type);
            if (ref != null && !ref.getProperty("service.id").equals(oldId)) {
                return;
            }
            Thread.sleep(100);
        }
        fail("no new " + type.getSimpleName() + " service within 30 s");
    }

    private static String sha256Hex(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
