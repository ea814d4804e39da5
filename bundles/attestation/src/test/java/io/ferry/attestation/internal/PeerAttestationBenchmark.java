package io.ferry.attestation.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.attestation.verifier.SoftwareAttester;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.channel.testing.TestPki;

/**
 * Mutual peer attestation of two agents, the two ways side by side: one after the other ({@code attestPeer} then
 * {@code answer} on one side, the reverse on the other, as migrations did before 2026-11-28) and
 * {@code attestEachOther} (both at once, as they do now). Real mutual-TLS channels and the real
 * {@link ChannelPeerAttestation}; software TPMs; the IT center's nonces and verdicts from {@link FakeItCenter} at a
 * chosen distance: a sleep per call stands in for the network's round trip (0: in this JVM, as on this machine).
 * One fresh channel per round, as a migration opens one; the kinds alternate. Timed from the open channel until
 * both sides have their verdict.
 * <p>
 * Usage: PeerAttestationBenchmark [rounds per kind and distance, default 15] [distances in ms, default 0,10,40]
 */
public final class PeerAttestationBenchmark {

    static final Duration TIMEOUT = Duration.ofSeconds(10);
    static final String[] KINDS = { "one-after-the-other", "each-other" };

    private final FakeItCenter itc = new FakeItCenter();
    private final TlsAgentChannels laptop;
    private final TlsAgentChannels desktop;
    private final ChannelPeerAttestation laptopSide;
    private final AtomicReference<CompletableFuture<Verdict>> desktopSees = new AtomicReference<>();

    private PeerAttestationBenchmark() throws Exception {
        SoftwareAttester laptopTpm = new SoftwareAttester();
        SoftwareAttester desktopTpm = new SoftwareAttester();
        for (SoftwareAttester t : new SoftwareAttester[] { laptopTpm, desktopTpm }) {
            t.measure("qemu-system-x86_64", "7.2.15", "qemu");
        }
        itc.references.add(new ReferenceValue("qemu-system-x86_64", "7.2.15", SoftwareAttester.digestOf("qemu")));
        itc.enrol("laptop", laptopTpm);
        itc.enrol("desktop", desktopTpm);
        TestPki pki = new TestPki("IT center");
        laptop = TestChannels.start(pki.agent("laptop"));
        desktop = TestChannels.start(pki.agent("desktop"));
        laptopSide = new ChannelPeerAttestation(laptopTpm, () -> itc.link("laptop"));
        ChannelPeerAttestation desktopSide = new ChannelPeerAttestation(desktopTpm, () -> itc.link("desktop"));
        desktop.addHandler(channel -> answerFor(() -> {
            desktopSide.answer(channel, TIMEOUT);
            return desktopSide.attestPeer(channel, TIMEOUT);
        }), Map.of(ChannelHandler.PURPOSE, KINDS[0]));
        desktop.addHandler(channel -> answerFor(() -> desktopSide.attestEachOther(channel, TIMEOUT)),
                Map.of(ChannelHandler.PURPOSE, KINDS[1]));
    }

    private void answerFor(java.util.function.Supplier<Verdict> attestation) {
        CompletableFuture<Verdict> sees = desktopSees.get();
        try {
            sees.complete(attestation.get());
        } catch (RuntimeException e) {
            sees.completeExceptionally(e);
        }
    }

    /** One mutual attestation on a fresh channel: ms until both sides have their verdict. */
    private double round(String kind) throws Exception {
        CompletableFuture<Verdict> desktopVerdict = new CompletableFuture<>();
        desktopSees.set(desktopVerdict);
        try (Channel c = laptop.open(new AgentAddress("desktop", "127.0.0.1", desktop.port()), kind, TIMEOUT)) {
            long t0 = System.nanoTime();
            Verdict laptopVerdict;
            if (kind.equals(KINDS[0])) {
                laptopVerdict = laptopSide.attestPeer(c, TIMEOUT);
                laptopSide.answer(c, TIMEOUT);
            } else {
                laptopVerdict = laptopSide.attestEachOther(c, TIMEOUT);
            }
            Verdict other = desktopVerdict.get(10, TimeUnit.SECONDS);
            double ms = (System.nanoTime() - t0) / 1e6;
            if (!laptopVerdict.genuine() || !other.genuine()) {
                throw new IllegalStateException("a verdict was not genuine: " + laptopVerdict.explain() + " / "
                        + other.explain());
            }
            return ms;
        }
    }

    public static void main(String[] args) throws Exception {
        Logger.getLogger("org.bouncycastle").setLevel(Level.WARNING);
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        long[] distances = Arrays.stream((args.length > 1 ? args[1] : "0,10,40").split(","))
                .mapToLong(Long::parseLong).toArray();
        PeerAttestationBenchmark b = new PeerAttestationBenchmark();
        try {
            b.run(rounds, distances);
        } finally {
            b.laptop.close();
            b.desktop.close();
        }
    }

    private void run(int rounds, long[] distances) throws Exception {
        System.out.printf("mutual peer attestation, %d rounds per kind and distance, alternating, after %d warm-up "
                + "rounds; java %s, %d cpus%n", rounds, 2 * rounds, System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors());
        for (int i = 0; i < 2 * rounds; i++) {
            round(KINDS[i % 2]);
        }
        System.out.printf("%-12s %-20s %10s %8s %8s%n", "IT center", "kind", "median ms", "min", "max");
        StringBuilder summary = new StringBuilder("peer-attestation: both verdicts, one after the other against each "
                + "other (median ms, ratio), the IT center");
        for (long d : distances) {
            itc.latencyMillis = d;
            Map<String, List<Double>> times = new LinkedHashMap<>();
            for (String k : KINDS) {
                times.put(k, new ArrayList<>());
            }
            for (int i = 0; i < rounds; i++) {
                for (int k = 0; k < KINDS.length; k++) {
                    String kind = KINDS[(i + k) % KINDS.length]; // who goes first alternates too
                    times.get(kind).add(round(kind));
                }
            }
            double[] medians = new double[KINDS.length];
            for (int k = 0; k < KINDS.length; k++) {
                double[] v = times.get(KINDS[k]).stream().mapToDouble(Double::doubleValue).sorted().toArray();
                medians[k] = v[v.length / 2];
                System.out.printf("%-12s %-20s %10.1f %8.1f %8.1f%n", d + " ms away", KINDS[k], medians[k], v[0],
                        v[v.length - 1]);
            }
            summary.append(String.format("; %d ms away: %.1f against %.1f (%.2fx)", d, medians[0], medians[1],
                    medians[0] / medians[1]));
        }
        System.out.println();
        System.out.println(summary);
    }
}
