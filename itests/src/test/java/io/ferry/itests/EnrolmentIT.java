package io.ferry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.security.KeyPair;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import io.ferry.api.channel.AgentCredentials;
import io.ferry.api.enrolment.AgentEnrolment;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ItCenterLink;

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

    private static final int PORT = 18463;
    private static final String URL = "https://127.0.0.1:" + PORT + "/";

    @Override
    protected void ferryOptions(List<Option> options) {
        enrolmentOptions(options, PORT);
    }

    @Test
    public void agentEnrolsAtItsItCenterAndCallsItWithTheIssuedCertificate() throws Exception {
        installAndAssertFeature("ferry-itcenter");
        installAndAssertFeature("ferry-enrolment");
        getOsgiService(ItCenter.class, 60_000);
        awaitPort(PORT, Duration.ofSeconds(60));
        // seal storage keeps the agent's key: give it the IT center's approval of the platform as it is now
        // (after the features above were measured)
        KeyPair approvalKey = newApprovalKey();
        configureApprovalKey(approvalKey, Duration.ofSeconds(30));
        approvePlatform(approvalKey, 0);

        awaitService(AgentEnrolment.class);
        assertContains("Enrolled:     no", adminCommand("agent:status"));

        // the IT center's components may still restart once seal storage has its approval (adminCommandWhenUp)
        String invite = adminCommandWhenUp("itcenter:invite -o alice -g home ita-agent");
        String token = group(invite, "token:\\s+(\\S+)");
        String root = group(invite, "IT center root:\\s+([0-9a-f]{64})");
        assertEquals(sha256Hex(itc().rootCertificate().getEncoded()), root);

        // a wrong pin: refused before anything is sent, naming the root the IT center presented
        assertAdminCommandFails("agent:enrol -t " + token + " -r " + "00".repeat(32) + " " + URL + " ita-agent",
                "untrusted", root);

        String enrol = adminCommand("agent:enrol -t " + token + " -r " + root + " " + URL + " ita-agent");
        assertContains("Reading the EK certificate from the TPM", enrol);
        assertContains("Activating the credential in the TPM", enrol);
        assertContains("Quoting SHA-256 of the TLS public key", enrol);
        String agentId = group(enrol, "Enrolled as agent (\\S+) ");
        assertContains("Enrolled: agent " + agentId, enrol);

        // the link calls the API with the issued certificate
        ItCenterLink link = serviceNow(ItCenterLink.class);
        assertTrue(link.enrolled());
        String me = link.call("GET", "agents/" + agentId, null, Duration.ofSeconds(30));
        assertContains("\"name\":\"ita-agent\"", me);
        assertContains("\"owner\":\"alice\"", me);
        AgentCredentials credentials = getOsgiService(AgentCredentials.class, 30_000);
        assertEquals(agentId, credentials.agentId());
        credentials.trustManager().checkClientTrusted(credentials.certificateChain(), "ECDHE_ECDSA");

        String status = adminCommand("agent:status");
        assertContains("Enrolled:     yes", status);
        assertContains("Agent id:     " + agentId, status);
        assertContains("IT center:    " + URL, status);
        assertContains("Root SHA-256: " + root, status);
        assertContains("Reachable:    yes", status);

        assertEquals(1, itc().audit(new AuditQuery(agentId, null, "enrolment.completed", null, 10)).size());

        // the same token again: refused by the IT center, nothing registered, the refusal audited
        int refusedBefore = itc().audit(new AuditQuery(null, null, "enrolment.refused", null, 100)).size();
        assertAdminCommandFails("agent:enrol --force -t " + token + " -r " + root + " " + URL + " ita-agent",
                "refused", "used already");
        assertEquals(refusedBefore + 1, itc().audit(new AuditQuery(null, null, "enrolment.refused", null, 100)).size());
        assertEquals(1, itc().agents().stream().filter(a -> a.name().equals("ita-agent")).count());
        // and the agent keeps its identity
        assertContains("Agent id:     " + agentId, adminCommand("agent:status"));
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Waits for a service; on failure shows what Declarative Services says about the enrolment components. */
    private void awaitService(Class<?> type) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (bundleContext.getServiceReference(type) == null) {
            if (System.currentTimeMillis() > deadline) {
                String why;
                try {
                    why = adminCommand("scr:info io.ferry.enrolment.internal.TpmEnrolment") + "\n"
                            + adminCommand("scr:info io.ferry.enrolment.internal.ItCenterLinkService") + "\n"
                            + adminCommand("bundle:list -t 0 | grep -i ferry");
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

    private static String group(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue("no " + regex + " in:\n" + text, m.find());
        return m.group(1);
    }

    private static String sha256Hex(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
