package io.ferry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.karaf.features.Repository;
import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;

import io.ferry.api.attestation.AttestationRecord;
import io.ferry.api.attestation.Attestations;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.itcenter.ReleaseRepository;

/**
 * Issue 5's "build a trustworthy container" end to end, in one distribution that is both the IT center and
 * the agent, against testbed host ita's swtpm: the agent enrols (attested enrolment), the IT center
 * publishes the distribution's features repository (reference values of every Ferry bundle) and the
 * sample feature at 1.1.0 only; the agent attests trusted. Then it installs the sample feature at 1.0.0,
 * which the IT center never published: its verdict drops to measured, naming that bundle; attestation:attest
 * -l trusted installs ferry-attest-sample/1.1.0 (feature:install -u), which replaces the bundle, and the
 * agent attests trusted again. Every verdict is in the IT center's record and audit log.
 *
 * <p>The measurement PCR is 15 here: the other tests' agents measure into ita's PCR 23, and a fresh log
 * only replays against a PCR nobody else extended (run the class once per hosts-up); PCRs 17 to 22 cannot be
 * extended from locality 0.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class AttestationIT extends FerryTestSupport {

    private static final RolePrincipal ADMIN = new RolePrincipal("admin");
    private static final int PORT = 18663;
    private static final int PCR = 15;
    private static final String URL = "https://127.0.0.1:" + PORT + "/";
    private static final String SAMPLE = "mvn:io.ferry.test/ferry-attest-sample-features/%s/xml/features";
    private static final String SAMPLE_BUNDLE = "io.ferry.test.attest-sample";

    @Override
    protected void ferryOptions(List<Option> options) {
        enrolmentOptions(options, PORT);
        // attestation: Ferry's bundles only (the host's QEMU and libvirtd are not published here), PCR 15
        options.add(editConfigurationFilePut("etc/io.ferry.attestation.cfg", "measurement.pcr", String.valueOf(PCR)));
        options.add(editConfigurationFilePut("etc/io.ferry.attestation.cfg", "binaries", ""));
        options.add(editConfigurationFilePut("etc/io.ferry.itcenter.attestation.cfg", "measurement.pcr",
                String.valueOf(PCR)));
    }

    @Test
    public void anAgentIsTrustedTamperedAndRemediatedToTrustedAgain() throws Exception {
        installAndAssertFeature("ferry-itcenter");
        installAndAssertFeature("ferry-enrolment");
        ItCenter itc = getOsgiService(ItCenter.class, 60_000);
        awaitPort(PORT, Duration.ofSeconds(60));
        KeyPair approvalKey = newApprovalKey();
        configureApprovalKey(approvalKey, Duration.ofSeconds(90));
        approvePlatform(approvalKey, 0);
        // enrolment starts once seal storage has its approval; the IT center may restart meanwhile
        getOsgiService(io.ferry.api.enrolment.AgentEnrolment.class, 60_000);
        getOsgiService(ItCenter.class, 60_000);
        awaitPort(PORT, Duration.ofSeconds(60));

        // enrol: the IT center gets the agent's attestation key
        String invite = adminCommandWhenUp("itcenter:invite -o alice -g home att-agent");
        String token = group(invite, "token:\\s+(\\S+)");
        String root = group(invite, "IT center root:\\s+([0-9a-f]{64})");
        String agentId = group(adminCommandWhenUp("agent:enrol -t " + token + " -r " + root + " " + URL + " att-agent"),
                "Enrolled as agent (\\S+) ");

        // the link may restart with the new identity and load it from seal storage
        long linkDeadline = System.currentTimeMillis() + 60_000;
        while (!serviceNow(io.ferry.api.itcenter.ItCenterLink.class).enrolled()) {
            assertTrue("the ItCenterLink did not become enrolled", System.currentTimeMillis() < linkDeadline);
            Thread.sleep(300);
        }

        // the IT center publishes what this distribution runs, and the sample feature at 1.1.0 only
        ReleaseRepository repository = getOsgiService(ReleaseRepository.class, 30_000);
        repository.publish(ferryFeatures(), null, "itest");
        offer("1.0.0");
        offer("1.1.0");
        repository.publish(String.format(SAMPLE, "1.1.0"), null, "itest");

        // 1. as installed: trusted
        String first = console("attestation:attest -l trusted");
        expectIn("Round 1: verdict trusted", first);
        expectIn("Qualifies:  trusted (after 1 round)", first);

        // 2. tampered: a Ferry bundle the IT center never published
        console("feature:repo-add " + String.format(SAMPLE, "1.0.0"));
        // no refresh: a refresh would restart unrelated bundles, this test's own support bundle among them
        console("feature:install --no-auto-refresh ferry-attest-sample/1.0.0");
        assertEquals("1.0.0", sampleVersion());
        String tampered = console("attestation:attest");
        expectIn("Round 1: verdict measured", tampered);
        expectIn("UNKNOWN_COMPONENT: unknown component " + SAMPLE_BUNDLE + " version 1.0.0", tampered);
        expectIn("Unknown:    " + SAMPLE_BUNDLE + " 1.0.0", tampered);

        // 3. remediation: the IT center names ferry-attest-sample/1.1.0, the agent upgrades and is trusted
        String remediated = console("attestation:attest -l trusted");
        expectIn("Round 1: verdict measured", remediated);
        expectIn("Installing ferry-attest-sample/1.1.0 (upgrade) for " + SAMPLE_BUNDLE, remediated);
        expectIn("Round 2: verdict trusted", remediated);
        expectIn("Qualifies:  trusted (after 2 rounds)", remediated);
        expectIn("Installed:  ferry-attest-sample/1.1.0", remediated);
        assertEquals("1.1.0", sampleVersion());

        // the IT center's record, audit log and console
        Attestations attestations = getOsgiService(Attestations.class, 10_000);
        List<AttestationRecord> record = attestations.attestations(agentId, 10);
        // newest first
        assertEquals(Arrays.asList("trusted", "measured", "measured", "trusted"),
                record.stream().map(r -> r.result().verdict().level()).toList());
        assertTrue(record.stream().allMatch(r -> r.result().verdict().genuine()));
        assertEquals(4, itc.audit(new AuditQuery(agentId, null, "attestation.verdict", null, 10)).size());
        assertTrue(itc.agent(agentId).orElseThrow().lastVerdict().startsWith("trusted"));
        String table = console("itcenter:attestations -a " + agentId);
        expectIn("UNKNOWN_COMPONENT " + SAMPLE_BUNDLE, table);
        expectIn("Verdict:    trusted", console("attestation:status"));
    }

    private String ferryFeatures() throws Exception {
        for (Repository r : featureService.listRepositories()) {
            if (r.getName() != null && r.getName().startsWith("ferry-") && r.getURI().toString().contains("ferry-features")) {
                return r.getURI().toString();
            }
        }
        fail("no ferry-features repository installed");
        return null;
    }

    private String sampleVersion() {
        String version = null;
        for (Bundle b : bundleContext.getBundles()) {
            if (SAMPLE_BUNDLE.equals(b.getSymbolicName())) {
                assertFalse("two sample bundles installed", version != null);
                version = b.getVersion().toString();
            }
        }
        return version;
    }

    /** Puts the sample bundle and a features XML listing it into the distribution's system folder. */
    private static void offer(String version) throws IOException {
        Path system = Path.of(System.getProperty("karaf.home"), "system", "io", "ferry", "test");
        Path jar = system.resolve("ferry-attest-sample/" + version + "/ferry-attest-sample-" + version + ".jar");
        Files.createDirectories(jar.getParent());
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Bundle-ManifestVersion", "2");
        m.getMainAttributes().putValue("Bundle-SymbolicName", SAMPLE_BUNDLE);
        m.getMainAttributes().putValue("Bundle-Version", version);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JarOutputStream j = new JarOutputStream(out, m)) {
            j.putNextEntry(new JarEntry("sample.txt"));
            j.write(("attestation sample " + version).getBytes(StandardCharsets.UTF_8));
        }
        Files.write(jar, out.toByteArray());
        Path xml = system.resolve("ferry-attest-sample-features/" + version + "/ferry-attest-sample-features-" + version
                + "-features.xml");
        Files.createDirectories(xml.getParent());
        Files.writeString(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<features name=\"ferry-attest-sample-" + version + "\" xmlns=\"http://karaf.apache.org/xmlns/features/v1.6.0\">\n"
                + "  <feature name=\"ferry-attest-sample\" version=\"" + version + "\">\n"
                + "    <bundle>mvn:io.ferry.test/ferry-attest-sample/" + version + "</bundle>\n"
                + "  </feature>\n</features>\n");
    }

    private String console(String command) {
        return executeCommand(command, 300_000L, false, ADMIN);
    }

    private static void expectIn(String expected, String actual) {
        assertTrue("expected '" + expected + "' in:\n" + actual, actual.contains(expected));
    }

    private static String group(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue("no " + regex + " in:\n" + text, m.find());
        return m.group(1);
    }
}
