package io.ferry.itcenter.attestation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import io.ferry.api.attestation.AppraisalPolicy;
import io.ferry.api.attestation.ComponentKind;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.MeasurementEntry;
import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.attestation.SecurityLevels;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.itcenter.AgentRegistration;
import io.ferry.api.itcenter.ItCenter;
import io.ferry.api.tpm.Quote;
import io.ferry.attestation.verifier.Expectation;
import io.ferry.attestation.verifier.Verifier;
import io.ferry.attestation.wire.AttestationJson;
import io.ferry.attestation.wire.EvidenceSubmission;
import io.ferry.attestation.wire.NonceGrant;
import io.ferry.attestation.wire.NonceRequest;
import io.ferry.itcenter.internal.ItCenterTestAccess;
import io.ferry.itcenter.internal.Store;
import io.ferry.tpm.internal.TssTpm;
import io.ferry.tpm.testing.Swtpm;

/**
 * bench/run attestation: on one thread (per core), side by side in one run, against a fresh swtpm and the
 * IT center's embedded database: a bare ECDSA P-256 verification; Verifier.verify of real swtpm evidence
 * with a 50-event log; the IT center's whole path for it (JSON decode, nonce consumed, verify, verdict
 * recorded and audited); the agent's quote (TPM2_Quote on swtpm, with the PCR read); and the full round
 * trip (nonce, quote, JSON, verdict).
 */
public final class AttestationBenchmark {

    static final int PCR = 23;
    static final int EVENTS = 50;

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3.0;
        Path dir = Files.createTempDirectory("ferry-attestation-bench");
        try (Swtpm swtpm = new Swtpm().start()) {
            TssTpm tpm = TssTpm.swtpm(swtpm.host(), swtpm.port());
            try {
                run(tpm, dir, seconds);
            } finally {
                tpm.close();
            }
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static void run(TssTpm tpm, Path dir, double seconds) throws Exception {
        // a realistic log: 48 bundles and 2 binaries, extended into the PCR of the swtpm
        List<MeasurementEntry> log = new ArrayList<>();
        List<ReferenceValue> refs = new ArrayList<>();
        Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
        for (int i = 1; i <= EVENTS; i++) {
            boolean binary = i <= 2;
            String name = binary ? (i == 1 ? "qemu-system-x86_64" : "libvirtd") : "io.ferry.component" + i;
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(name.getBytes()));
            MeasurementEntry e = new MeasurementEntry(i, PCR, binary ? ComponentKind.BINARY : ComponentKind.BUNDLE, name,
                    "1.0." + i, sha, t0);
            log.add(e);
            refs.add(new ReferenceValue(name, "1.0." + i, sha, "ferry-x/1.0." + i, t0));
            tpm.extendPcr(PCR, e.eventDigest());
        }
        PublicKey ak = tpm.attestationKey().key();
        byte[] akName = tpm.attestationKey().name();
        SecureRandom random = new SecureRandom();

        // 1. bare signature verification
        java.security.KeyPairGenerator kpg = java.security.KeyPairGenerator.getInstance("EC");
        kpg.initialize(new java.security.spec.ECGenParameterSpec("secp256r1")); // the AK's curve
        KeyPair kp = kpg.generateKeyPair();
        byte[] message = new byte[145];
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(kp.getPrivate());
        signer.update(message);
        byte[] sig = signer.sign();
        Runnable bareVerify = () -> {
            try {
                Signature s = Signature.getInstance("SHA256withECDSA");
                s.initVerify(kp.getPublic());
                s.update(message);
                if (!s.verify(sig)) {
                    throw new IllegalStateException("bad");
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        double bare = rate(seconds, bareVerify);

        // 2. the pure verifier on real swtpm evidence
        byte[] nonce = new byte[32];
        random.nextBytes(nonce);
        Evidence evidence = evidence(tpm, nonce, new byte[0], log, ak, akName);
        AppraisalPolicy policy = new AppraisalPolicy(SecurityLevels.DEFAULT, "measured", Set.of("qemu-system-x86_64"),
                false);
        Expectation expect = new Expectation(ak, null, nonce, new byte[0], PCR);
        Verdict check = Verifier.verify(evidence, expect, policy, refs);
        if (!check.level().equals("trusted")) {
            throw new IllegalStateException("the benchmark's evidence is not trusted: " + check.explain());
        }
        double verify = rate(seconds, () -> Verifier.verify(evidence, expect, policy, refs));
        bare = Math.max(bare, rate(seconds, bareVerify)); // again, after the verifier warmed the same EC code
        String json = AttestationJson.write(AttestationJson.toJson(new EvidenceSubmission(null, "trusted", evidence)));
        double decodeVerify = rate(seconds, () -> Verifier.verify(
                AttestationJson.read(json, AttestationJson::submission).evidence(), expect, policy, refs));

        // 3. the IT center's whole path on its embedded database
        Store store = ItCenterTestAccess.open("jdbc:h2:file:" + dir.resolve("registry").toAbsolutePath());
        try {
            Clock clock = Clock.systemUTC();
            ItCenter itc = ItCenterTestAccess.itCenter(store, clock);
            String agent = register(itc, store, ak);
            publish(store, refs);
            AttestationService service = new AttestationService(store, new AttestationService.Settings(policy, PCR,
                    Duration.ofSeconds(600), java.util.Map.of(), null), clock, List::of);
            int n = (int) Math.max(100, Math.min(4000, seconds * 800));
            List<String> submissions = new ArrayList<>();
            for (int i = 0; i < n + 1; i++) {
                NonceGrant g = service.issueNonce(agent, new NonceRequest(null, null));
                submissions.add(AttestationJson.write(AttestationJson.toJson(new EvidenceSubmission(null, "trusted",
                        evidence(tpm, g.nonce(), g.binding(), log, ak, akName)))));
            }
            int[] next = { 0 };
            double itcenter = rate(seconds, n, () -> {
                String body = submissions.get(next[0]++);
                if (!service.submit(agent, AttestationJson.read(body, AttestationJson::submission)).qualifies()) {
                    throw new IllegalStateException("not trusted");
                }
            });

            // 4. the agent's quote, and 5. the round trip
            double quote = rate(seconds, () -> tpm.quote(nonce, PCR));
            double roundTrip = rate(seconds, () -> {
                NonceGrant g = service.issueNonce(agent, new NonceRequest(null, null));
                String body = AttestationJson.write(AttestationJson.toJson(new EvidenceSubmission(null, "trusted",
                        evidence(tpm, g.nonce(), g.binding(), log, ak, akName))));
                if (!service.submit(agent, AttestationJson.read(body, AttestationJson::submission)).qualifies()) {
                    throw new IllegalStateException("not trusted");
                }
            });

            System.out.printf("Evidence: %d events, %d bytes of JSON; one thread (per core); load average %.1f on %d "
                    + "cores (other work on the machine lowers every figure alike; compare the ratios)%n", EVENTS,
                    json.length(), java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                            .getSystemLoadAverage(), Runtime.getRuntime().availableProcessors());
            System.out.printf("%-58s %12s %12s %10s%n", "operation", "per second", "ms each", "vs bare");
            row("bare ECDSA P-256 signature verification", bare, bare);
            row("Verifier.verify (parse, signature, nonce, replay, appraisal)", verify, bare);
            row("JSON decode + Verifier.verify", decodeVerify, bare);
            row("IT center: decode, consume nonce, verify, record (H2)", itcenter, bare);
            row("agent: TPM2_Quote on swtpm", quote, bare);
            row("round trip: nonce, quote, JSON, verdict", roundTrip, bare);
            System.out.printf("attestation: verify %.0f/s per core (%.2f of a bare signature check at %.0f/s), IT center "
                    + "%.0f/s with the database, swtpm quote %.1f ms, round trip %.1f ms%n", verify, verify / bare, bare,
                    itcenter, 1000 / quote, 1000 / roundTrip);
        } finally {
            store.close();
        }
    }

    static void row(String what, double rate, double bare) {
        System.out.printf("%-58s %12.0f %12.3f %9.2fx%n", what, rate, 1000 / rate, rate / bare);
    }

    static Evidence evidence(TssTpm tpm, byte[] nonce, byte[] binding, List<MeasurementEntry> log, PublicKey ak,
            byte[] akName) {
        Quote q = tpm.quote(Evidence.qualifyingData(nonce, binding), PCR);
        return new Evidence(nonce, binding, q.attest(), q.signature(), q.pcrs(), log, ak.getEncoded(), akName);
    }

    static String register(ItCenter itc, Store store, PublicKey ak) throws Exception {
        KeyPair tls = java.security.KeyPairGenerator.getInstance("EC").generateKeyPair();
        String pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(tls.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        String id = itc.registerAgent(new AgentRegistration("bench", "alice", "home", pem), "bench").agent().id();
        store.transaction(t -> {
            try (PreparedStatement ps = t.connection().prepareStatement("UPDATE agent SET ak_public = ? WHERE id = ?")) {
                ps.setString(1, Base64.getEncoder().encodeToString(ak.getEncoded()));
                ps.setString(2, id);
                ps.executeUpdate();
            }
            return null;
        });
        return id;
    }

    static void publish(Store store, List<ReferenceValue> refs) {
        store.transaction(t -> {
            for (ReferenceValue r : refs) {
                try (PreparedStatement ps = t.connection().prepareStatement("INSERT INTO reference_value "
                        + "(component, version, sha256, release_name, published_at) VALUES (?, ?, ?, ?, ?)")) {
                    ps.setString(1, r.component());
                    ps.setString(2, r.version());
                    ps.setString(3, r.sha256());
                    ps.setString(4, r.release());
                    ps.setObject(5, r.publishedAt().atOffset(ZoneOffset.UTC));
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }

    static double rate(double seconds, Runnable op) {
        return rate(seconds, 1_000_000, op);
    }

    /**
     * Operations per second: a warm-up of half the time (the JIT compiles the EC and JSON code), then the time or
     * the count, whichever ends first.
     */
    static double rate(double seconds, int max, Runnable op) {
        long warm = System.nanoTime() + (long) (seconds * 0.5e9);
        int done = 0;
        while (System.nanoTime() < warm && done < max / 3) {
            op.run();
            done++;
        }
        long budget = (long) (seconds * 1e9);
        long start = System.nanoTime();
        int n = 0;
        while (System.nanoTime() - start < budget && n + done < max) {
            op.run();
            n++;
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }
}
