package io.ferry.tpm.bench;

import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.ferry.api.tpm.KeyBlob;
import io.ferry.api.tpm.PolicyDigests;
import io.ferry.api.tpm.PolicyStep;
import io.ferry.tpm.internal.TssTpm;
import io.ferry.tpm.testing.Swtpm;
import tss.TpmDeviceTcp;

/**
 * Seal, unseal (PolicyPCR session), quote and PCR extend per second against a fresh swtpm, with
 * Ferry's single-write TCP device and TSS.Java's own TpmDeviceTcp side by side in one run.
 * Each operation runs for a fixed time (after a warm-up) or a fixed count, whichever ends first.
 */
public final class TpmBenchmark {

    static final int PCR = 23;

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2.0;
        try (Swtpm swtpm = new Swtpm().start()) {
            Map<String, double[]> results = new LinkedHashMap<>();
            String[] ops = { "seal", "unseal", "quote", "extend" };
            results.put("ferry", run(TssTpm.swtpm(swtpm.host(), swtpm.port()), seconds));
            results.put("tss", run(new TssTpm(() -> new TpmDeviceTcp(swtpm.host(), swtpm.port()),
                    "TSS.Java TpmDeviceTcp " + swtpm.port()), seconds));
            System.out.printf("%-8s %22s %22s %8s%n", "op/s", "Ferry single-write TCP", "TSS.Java TpmDeviceTcp", "ratio");
            StringBuilder summary = new StringBuilder();
            double[] f = results.get("ferry");
            double[] t = results.get("tss");
            for (int i = 0; i < ops.length; i++) {
                System.out.printf("%-8s %22.1f %22.1f %7.0fx%n", ops[i], f[i], t[i], f[i] / t[i]);
                summary.append(String.format("%s %.0f/s (%.0fx)%s", ops[i], f[i], f[i] / t[i], i < ops.length - 1 ? ", " : ""));
            }
            System.out.println("tpm: single-write device vs TSS.Java TCP device: " + summary);
        }
    }

    static double[] run(TssTpm tpm, double seconds) throws Exception {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest("bench".getBytes());
            byte[] secret = new byte[32];
            KeyBlob sealed = tpm.seal(secret, PolicyDigests.pcr(PolicyDigests.empty(), tpm.readPcrs(PCR)));
            List<PolicyStep> policy = List.of(new PolicyStep.PolicyPcr(List.of(PCR)));
            double seal = rate(seconds, () -> tpm.seal(secret, PolicyDigests.empty()));
            double unseal = rate(seconds, () -> tpm.unseal(sealed, policy));
            double quote = rate(seconds, () -> tpm.quote(digest, PCR));
            double extend = rate(seconds, () -> tpm.extendPcr(16, digest));
            return new double[] { seal, unseal, quote, extend };
        } finally {
            tpm.close();
        }
    }

    static double rate(double seconds, Runnable op) {
        op.run(); // warm-up
        long budget = (long) (seconds * 1e9);
        long start = System.nanoTime();
        int n = 0;
        while (System.nanoTime() - start < budget && n < 100_000) {
            op.run();
            n++;
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }
}
