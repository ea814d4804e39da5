package io.ferry.policy.internal;

import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import io.ferry.api.policy.DecisionRequest;
import io.ferry.api.policy.Device;
import io.ferry.api.policy.Direction;
import io.ferry.api.policy.Policy;
import io.ferry.seal.testing.MemorySealStorage;

/**
 * {@code bench/run policy}: the cost of a decision and of an import, side by side in one run. Each
 * operation runs in turns (round robin, so that load on the machine hits all alike) for the given
 * seconds in total, after a warm-up:
 * <ul>
 * <li>evaluate: the pure decision (Evaluator) on a parsed policy</li>
 * <li>check / decide: through the PolicyService, which reads the stored policy from seal storage (in
 * memory here) on every use and verifies bytes it has not verified before; decide also reports to a
 * DecisionAudit (a no-op sink here)</li>
 * <li>decide-nc: the same without the verification cache: ES256 verification and parsing on every
 * decision (what the service did before)</li>
 * <li>import: verify + parse + version check + store (the same document again, so nothing is written
 * after the first)</li>
 * <li>verify: the ES256 JWS verification alone (Nimbus), and parse: the YAML document alone</li>
 * </ul>
 * The figures leave out the TPM: with real seal storage every read also unseals (about 1 ms against
 * swtpm, see the tpm benchmark).
 */
public final class PolicyBenchmark {

    interface Op {
        void run();
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 10;
        KeyPair key = Fixtures.p256();
        NimbusPolicySigner signer = new NimbusPolicySigner();
        String jws = signer.sign(Fixtures.POLICY, Fixtures.LEVELS, key).jws();
        Policy parsed = PolicyParser.parse(Fixtures.POLICY, Fixtures.LEVELS);
        SealedPolicyService service = new SealedPolicyService(new MemorySealStorage(), Fixtures.LEVELS,
                key.getPublic());
        AtomicLong reported = new AtomicLong();
        service.audits = List.of((r, d, p) -> reported.incrementAndGet());
        service.importPolicy(jws);
        SealedPolicyService reverifying = new SealedPolicyService(new MemorySealStorage(), Fixtures.LEVELS,
                key.getPublic());
        reverifying.cacheVerified = false;
        reverifying.importPolicy(jws);
        Instant now = Instant.parse("2026-03-15T10:00:00Z");
        // one allowed and one denied request, alternately: the owner to her laptop, a stranger to the home PC
        DecisionRequest[] requests = {
            new DecisionRequest(Direction.OUT, Fixtures.UUID, "alice", null,
                    new Device("alice-laptop", Set.of(), "measured"), now),
            new DecisionRequest(Direction.OUT, Fixtures.UUID, "mallory", null,
                    new Device("home-pc", Set.of("public"), "attested"), now)};
        int[] i = {0};
        Map<String, Op> ops = new LinkedHashMap<>();
        ops.put("evaluate", () -> Evaluator.decide(parsed, requests[i[0]++ & 1], Fixtures.LEVELS));
        ops.put("check", () -> service.check(requests[i[0]++ & 1]));
        ops.put("decide", () -> service.decide(requests[i[0]++ & 1]));
        ops.put("decide-nc", () -> reverifying.check(requests[i[0]++ & 1]));
        ops.put("import", () -> service.importPolicy(jws));
        ops.put("verify", () -> signer.verify(jws, Fixtures.LEVELS, (ECPublicKey) key.getPublic()));
        ops.put("parse", () -> PolicyParser.parse(Fixtures.POLICY, Fixtures.LEVELS));

        System.out.printf(Locale.ROOT, "policy benchmark: %d rules, document %d bytes, JWS %d bytes, %.1f s per "
                + "operation, Java %s, %d cores%n", parsed.rules().size(), Fixtures.POLICY.length(), jws.length(),
                seconds, System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());
        for (Op op : ops.values()) { // warm-up
            runFor(op, 1_000_000_000L);
        }
        Map<String, long[]> totals = new LinkedHashMap<>(); // count, nanos
        ops.keySet().forEach(k -> totals.put(k, new long[2]));
        int rounds = 10;
        long slice = (long) (seconds * 1e9 / rounds);
        for (int r = 0; r < rounds; r++) {
            for (Map.Entry<String, Op> e : ops.entrySet()) {
                long[] m = runFor(e.getValue(), slice);
                totals.get(e.getKey())[0] += m[0];
                totals.get(e.getKey())[1] += m[1];
            }
        }
        Map<String, Double> perSecond = new LinkedHashMap<>();
        System.out.printf(Locale.ROOT, "%-10s %14s %12s %14s%n", "operation", "ops/s", "us/op", "vs evaluate");
        List<String> lines = new ArrayList<>();
        for (Map.Entry<String, long[]> e : totals.entrySet()) {
            double ps = e.getValue()[0] / (e.getValue()[1] / 1e9);
            perSecond.put(e.getKey(), ps);
        }
        double evaluate = perSecond.get("evaluate");
        for (Map.Entry<String, Double> e : perSecond.entrySet()) {
            lines.add(String.format(Locale.ROOT, "%-10s %14.0f %12.2f %13.1fx", e.getKey(), e.getValue(),
                    1e6 / e.getValue(), evaluate / e.getValue()));
        }
        lines.forEach(System.out::println);
        double verifyShare = (1e6 / perSecond.get("verify")) / (1e6 / perSecond.get("import"));
        double parseShare = (1e6 / perSecond.get("parse")) / (1e6 / perSecond.get("import"));
        System.out.printf(Locale.ROOT, "import: verify (ES256 + parse) %.0f%% of its time, of which YAML parsing %.0f%% "
                + "of the import%n", 100 * verifyShare, 100 * parseShare);
        System.out.printf(Locale.ROOT, "decisions reported to the audit sink: %d%n", reported.get());
        System.out.printf(Locale.ROOT, "policy: decide %.0f/s (%.1f us; %.0fx the %.0f/s re-verifying the stored policy "
                + "each time; pure evaluation %.0f/s); import %.0f/s (%.0f us; verify alone %.0f us, YAML parse alone %.0f us)%n",
                perSecond.get("decide"), 1e6 / perSecond.get("decide"),
                perSecond.get("decide") / perSecond.get("decide-nc"), perSecond.get("decide-nc"), evaluate,
                perSecond.get("import"), 1e6 / perSecond.get("import"),
                1e6 / perSecond.get("verify"), 1e6 / perSecond.get("parse"));
    }

    /** Runs the operation for about {@code nanos}; returns {count, elapsed nanos}. */
    static long[] runFor(Op op, long nanos) {
        long start = System.nanoTime();
        long end = start + nanos;
        long n = 0;
        long t;
        do {
            for (int k = 0; k < 16; k++) {
                op.run();
            }
            n += 16;
            t = System.nanoTime();
        } while (t < end);
        return new long[] {n, t - start};
    }
}
