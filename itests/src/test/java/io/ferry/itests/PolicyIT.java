package io.ferry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.itcenter.AgentRegistration;
import io.ferry.api.itcenter.AuditQuery;
import io.ferry.api.itcenter.Enrolment;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.policy.PolicyProvisioning;
import io.ferry.api.policy.PolicyService;
import io.ferry.api.policy.PolicySigner;

/**
 * Issue 6 in the real distribution: the container's IT center publishes a VM image with its policy
 * ({@code itcenter:publish-vm}, signed with the IT center's policy key, recorded with an audit event);
 * the agent in the same container, holding the IT center's exported public key, imports the signed
 * file into seal storage (ita's swtpm) and answers {@code policy:list/show/check} from the console.
 * A forged file, one signed by another key, and a rolled-back version are refused with one clear line,
 * and change nothing. Over HTTPS, an agent with a certificate of the IT center gets the signed policy
 * ({@code GET /api/v1/vms/<vm>/policy}, audited), anyone gets the public key, and no certificate gets 401.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class PolicyIT extends FerryTestSupport {

    private static final int PCR = 23;
    private static final String UUID = "5d0e6a8b-3c2f-4a1e-9b7d-2e4f6a8c0b13";
    private static final int HTTPS_PORT = 18453;

    @Override
    protected void ferryOptions(List<Option> options) {
        testbedTpm(options);
        options.add(editConfigurationFilePut("etc/io.ferry.seal.cfg", "measurement.pcr", String.valueOf(PCR)));
        options.add(editConfigurationFilePut("etc/io.ferry.itcenter.cfg", "https.port", String.valueOf(HTTPS_PORT)));
    }

    static String policy(long version, String digest, String level) {
        return """
                ferry-policy: 1
                version: %d
                vm:
                  name: alice-desktop
                  uuid: %s
                  image-digest: %s
                owner: alice
                roles:
                  family: [bob]
                device-groups:
                  alice-devices: [alice-mid, alice-laptop]
                rules:
                  - id: owner-own-devices
                    effect: allow
                    direction: both
                    roles: [owner]
                    groups: [alice-devices]
                    min-target-level: %s
                    min-source-level: %s
                  - id: never-public
                    effect: deny
                    direction: both
                    users: ["*"]
                    groups: [public]
                """.formatted(version, UUID, digest, level, level);
    }

    @Test
    public void itCenterPublishesAndTheAgentImportsDecidesAndRefusesForgeries() throws Exception {
        installAndAssertFeature("ferry-itcenter");
        ItCenter itc = getOsgiService(ItCenter.class, 60_000);
        PolicyProvisioning vms = getOsgiService(PolicyProvisioning.class, 60_000);
        Path work = Files.createDirectories(Path.of(System.getProperty("karaf.data"), "policy-it"));

        // The IT center publishes the VM image with its policy, from the console.
        byte[] image = new byte[1 << 20];
        new SecureRandom().nextBytes(image);
        Path imageFile = Files.write(work.resolve("alice-desktop.qcow2"), image);
        String digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(image));
        Path v1Yaml = Files.writeString(work.resolve("v1.yaml"), policy(1, digest, "measured"));
        Path v1 = work.resolve("alice-desktop-v1.jws");
        String published = adminCommand("itcenter:publish-vm --image " + imageFile + " --out " + v1 + " alice-desktop " + v1Yaml);
        assertContains("Published VM alice-desktop (" + UUID + "), image " + digest
                + ", owner alice: policy version 1 signed by " + vms.policyKeyId(), published);
        assertContains("alice-desktop", adminCommand("itcenter:vms"));
        assertContains(vms.policyKeyPem().strip(), adminCommand("itcenter:vms --key"));
        // another image than the policy names is refused
        Path otherImage = Files.write(work.resolve("other.img"), new byte[] {1, 2, 3});
        assertAdminCommandFails("itcenter:publish-vm --image " + otherImage + " alice-desktop " + v1Yaml,
                "the policy names image " + digest);

        // The agent's operator installs the IT center's policy public key where io.ferry.policy looks for it.
        Path exported = Path.of(System.getProperty("karaf.data"), "itcenter", "policy", "policy-key.pem");
        assertEquals(vms.policyKeyPem(), Files.readString(exported, StandardCharsets.US_ASCII));
        Files.copy(exported, Path.of(System.getProperty("karaf.etc"), "ferry-policy-key.pem"));

        // Seal storage needs the IT center's approval of the platform state before it seals anything.
        KeyPair approvalKey = newApprovalKey();
        configureApprovalKey(approvalKey, Duration.ofSeconds(30));
        approvePlatform(approvalKey, 0);

        // the policy service restarts when seal storage's configuration changes: wait for it
        getOsgiService(PolicyService.class, 60_000);
        String imported = adminCommand("policy:import " + v1);
        assertContains("Imported: policy version 1 for VM alice-desktop (" + UUID + "), owner alice, 2 rules, signed by "
                + vms.policyKeyId(), imported);
        String list = adminCommand("policy:list");
        assertTrue(list, list.lines().anyMatch(l -> l.startsWith("alice-desktop") && l.contains(UUID)
                && l.matches(".*\\s1\\s+alice\\s+2\\s.*")));
        String show = adminCommand("policy:show alice-desktop");
        assertContains("Image:       " + digest, show);
        assertContains("Version:     1", show);
        assertContains("Owner:       alice", show);
        assertContains("Signed by:   " + vms.policyKeyId() + " (ES256)", show);
        assertContains("min-target-level: measured", show);
        assertEquals(Files.readString(v1).strip(), adminCommand("policy:show --jws " + UUID).strip());

        // What would be decided, and why.
        String allow = adminCommand("policy:check --target-level measured alice-desktop alice alice-laptop");
        assertContains("ALLOW by rule 'owner-own-devices' (policy version 1)", allow);
        assertContains("Reason: rule 'owner-own-devices' allows alice migrating VM 'alice-desktop' out to 'alice-laptop'"
                + " (target measured reaches measured)", allow);
        String low = adminCommand("policy:check --target-level untrusted alice-desktop alice alice-laptop");
        assertContains("DENY (policy version 1)", low);
        assertContains("needs the target at level measured or above; 'alice-laptop' is untrusted", low);
        String other = adminCommand("policy:check --target-level trusted alice-desktop alice bob-pc");
        assertContains("DENY (policy version 1)", other);
        assertContains("no rule allows alice migrating VM 'alice-desktop' out to 'bob-pc'", other);
        String publicGroup = adminCommand("policy:check --target-level trusted --group public alice-desktop alice alice-laptop");
        assertContains("DENY by rule 'never-public'", publicGroup);
        assertContains("deny wins over rule 'owner-own-devices'", publicGroup);
        String in = adminCommand("policy:check --direction in --target-level trusted --source alice-laptop "
                + "--source-level untrusted alice-desktop alice alice-mid");
        assertContains("needs the source at level measured", in);

        // A forged file: the payload replaced (a policy that lets bob in), the IT center's signature kept.
        String[] parts = Files.readString(v1).strip().split("\\.");
        String forgedPayload = Base64.getUrlEncoder().withoutPadding().encodeToString(
                policy(1, digest, "measured").replace("roles: [owner]", "users: [\"*\"]").getBytes(StandardCharsets.UTF_8));
        Path forged = Files.writeString(work.resolve("forged.jws"), parts[0] + "." + forgedPayload + "." + parts[2]);
        assertAdminCommandFails("policy:import " + forged, "Bad signature", "does not verify");
        // A policy signed by another key than the IT center's.
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        String foreign = getOsgiService(PolicySigner.class, 10_000)
                .sign(policy(9, digest, "untrusted"), SecurityLevels.DEFAULT, g.generateKeyPair()).jws();
        Path foreignFile = Files.writeString(work.resolve("foreign.jws"), foreign);
        assertAdminCommandFails("policy:import " + foreignFile, "Wrong key", "not by this agent's IT center key");
        assertAdminCommandFails("policy:import " + work.resolve("missing.jws"), "no file");
        assertContains("Version:     1", adminCommand("policy:show alice-desktop"));

        // Version 2 raises the level; after it, version 1 is a rollback.
        Path v2Yaml = Files.writeString(work.resolve("v2.yaml"), policy(2, digest, "trusted"));
        Path v2 = work.resolve("alice-desktop-v2.jws");
        assertContains("policy version 2", adminCommand("itcenter:publish-vm --out " + v2 + " alice-desktop " + v2Yaml));
        assertAdminCommandFails("itcenter:publish-vm alice-desktop " + v1Yaml, "holds version 2");
        assertContains("Updated (from version 1): policy version 2", adminCommand("policy:import " + v2));
        assertAdminCommandFails("policy:import " + v1, "Rollback refused", "holds version 2", "version 1 is older");
        assertContains("DENY (policy version 2)",
                adminCommand("policy:check --target-level measured alice-desktop alice alice-laptop"));
        assertContains("ALLOW by rule 'owner-own-devices' (policy version 2)",
                adminCommand("policy:check --target-level trusted alice-desktop alice alice-laptop"));

        // The IT center's audit log has both publications (the service looked up again: the IT center may have
        // restarted its component since, e.g. after configuring HTTPS).
        itc = getOsgiService(ItCenter.class, 60_000);
        assertEquals(2, itc.audit(new AuditQuery(null, UUID, "policy.published", null, 10)).size());

        // The REST API over HTTPS: the public key for anyone, the signed policy only for an agent.
        KeyPair agentKey = g.generateKeyPair();
        Enrolment e = itc.registerAgent(new AgentRegistration("policy-it-agent", "alice", "home",
                "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(agentKey.getPublic().getEncoded())
                        + "\n-----END PUBLIC KEY-----\n"), "itest");
        java.security.cert.Certificate[] chain = java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificates(new java.io.ByteArrayInputStream(e.certificate().pem().getBytes(StandardCharsets.US_ASCII)))
                .toArray(new java.security.cert.Certificate[0]);
        HttpClient agent = https(agentKey, chain, itc.rootCertificate());
        HttpClient anonymous = https(null, null, itc.rootCertificate());
        HttpResponse<String> key = await(anonymous, "/api/v1/vms/policy-key");
        assertEquals(key.body(), 200, key.statusCode());
        assertContains("\"kid\":\"" + vms.policyKeyId() + "\"", key.body());
        HttpResponse<String> fetched = agent.send(get("/api/v1/vms/alice-desktop/policy"),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(fetched.body(), 200, fetched.statusCode());
        assertContains("\"version\":2", fetched.body());
        assertContains("\"jws\":\"" + Files.readString(v2).strip() + "\"", fetched.body());
        HttpResponse<String> byUuid = agent.send(get("/api/v1/vms/" + UUID + "/policy"), HttpResponse.BodyHandlers.ofString());
        assertEquals(fetched.body(), byUuid.body());
        HttpResponse<String> none = agent.send(get("/api/v1/vms/nobody/policy"), HttpResponse.BodyHandlers.ofString());
        assertEquals(none.body(), 404, none.statusCode());
        assertTrue(none.headers().firstValue("content-type").orElse("").startsWith("application/problem+json"));
        HttpResponse<String> noCert = anonymous.send(get("/api/v1/vms/alice-desktop/policy"),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(noCert.body(), 401, noCert.statusCode());
        assertFalse(noCert.body(), noCert.body().contains("jws"));
        assertEquals(2, itc.audit(new AuditQuery(e.agent().id(), UUID, "policy.fetched", null, 10)).size());
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static HttpRequest get(String path) {
        return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + HTTPS_PORT + path))
                .timeout(Duration.ofSeconds(30)).GET().build();
    }

    /** The first answer that is not a 404 of a whiteboard still registering the resource (within 60 s). */
    private static HttpResponse<String> await(HttpClient client, String path) throws Exception {
        long end = System.currentTimeMillis() + 60_000;
        while (true) {
            try {
                HttpResponse<String> r = client.send(get(path), HttpResponse.BodyHandlers.ofString());
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

    /** An HTTPS client trusting only the IT center's root, with the agent's key and certificate when given. */
    private static HttpClient https(KeyPair key, java.security.cert.Certificate[] chain, X509Certificate root)
            throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", root);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        char[] pass = "it".toCharArray();
        if (key != null) {
            keys.setKeyEntry("agent", key.getPrivate(), pass, chain);
        }
        kmf.init(keys, pass);
        SSLContext ssl = SSLContext.getInstance("TLSv1.3");
        ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
    }
}
