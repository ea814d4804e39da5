package io.ferry.attestation.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.ferry.api.attestation.AttestationException;
import io.ferry.api.attestation.Attester;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.PeerAttestation;
import io.ferry.api.attestation.Reason.Code;
import io.ferry.api.attestation.ReferenceValue;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.channel.AgentAddress;
import io.ferry.api.channel.AgentCredentials;
import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.attestation.verifier.SoftwareAttester;
import io.ferry.attestation.wire.PeerFrames;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.channel.testing.TestPki;

/** PeerAttestation over real mutual-TLS channel pairs, the IT center stood in by FakeItCenter. */
class ChannelPeerAttestationTest {

    static final Duration TIMEOUT = Duration.ofSeconds(5);

    final FakeItCenter itc = new FakeItCenter();
    final SoftwareAttester laptopTpm = new SoftwareAttester();
    final SoftwareAttester desktopTpm = new SoftwareAttester();
    TestPki pki;
    AgentCredentials desktopCredentials;
    TlsAgentChannels laptop;
    TlsAgentChannels desktop;
    TlsAgentChannels relay;
    ChannelPeerAttestation laptopAttestation;
    ChannelPeerAttestation desktopAttestation;

    @BeforeEach
    void setUp() throws Exception {
        for (SoftwareAttester t : new SoftwareAttester[] { laptopTpm, desktopTpm }) {
            t.measure("qemu-system-x86_64", "7.2.15", "qemu");
        }
        itc.references.add(new ReferenceValue("qemu-system-x86_64", "7.2.15", SoftwareAttester.digestOf("qemu")));
        itc.enrol("laptop", laptopTpm);
        itc.enrol("desktop", desktopTpm);
        pki = new TestPki("IT center");
        desktopCredentials = pki.agent("desktop");
        laptop = TestChannels.start(pki.agent("laptop"));
        desktop = TestChannels.start(desktopCredentials);
        laptopAttestation = new ChannelPeerAttestation(laptopTpm, () -> itc.link("laptop"));
        desktopAttestation = new ChannelPeerAttestation(desktopTpm, () -> itc.link("desktop"));
        desktop.addHandler(desktopAttestation, Map.of(ChannelHandler.PURPOSE, ChannelPeerAttestation.PURPOSE));
    }

    @AfterEach
    void tearDown() {
        laptop.close();
        desktop.close();
        if (relay != null) {
            relay.close();
        }
    }

    Channel openTo(TlsAgentChannels target, String expectedId, String purpose) {
        return laptop.open(new AgentAddress(expectedId, "127.0.0.1", target.port()), purpose, TIMEOUT);
    }

    @Test
    void thePeerAttestsOverTheChannelAndTheItCenterJudgesIt() throws Exception {
        try (Channel c = openTo(desktop, "desktop", ChannelPeerAttestation.PURPOSE)) {
            Verdict v = laptopAttestation.attestPeer(c, TIMEOUT);
            assertThat(v.level()).isEqualTo("trusted");
            assertThat(v.genuine()).isTrue();
        }
        assertThat(desktopTpm.quotes).isEqualTo(1);
        assertThat(itc.record).singleElement().satisfies(r -> {
            assertThat(r.requester()).isEqualTo("laptop");
            assertThat(r.result().agentId()).isEqualTo("desktop");
        });
        assertThat(itc.calls).containsExactly("laptop POST attestation/nonces", "laptop POST attestation/verdicts");
    }

    @Test
    void mutualAttestationInOppositeOrder() throws Exception {
        CompletableFuture<Verdict> desktopSees = new CompletableFuture<>();
        desktop.addHandler(channel -> {
            desktopAttestation.answer(channel, TIMEOUT);
            desktopSees.complete(desktopAttestation.attestPeer(channel, TIMEOUT));
        }, Map.of(ChannelHandler.PURPOSE, "mutual"));
        try (Channel c = openTo(desktop, "desktop", "mutual")) {
            assertThat(laptopAttestation.attestPeer(c, TIMEOUT).level()).isEqualTo("trusted");
            laptopAttestation.answer(c, TIMEOUT);
            assertThat(desktopSees.get(5, TimeUnit.SECONDS).level()).isEqualTo("trusted");
        }
    }

    /** Both ends call attestEachOther: each gets the IT center's verdict on the other, and the quotes overlap. */
    @Test
    void eachAttestsTheOtherAtTheSameTime() throws Exception {
        // each TPM waits inside its quote until the other's quote has begun: one after the other would time out
        CyclicBarrier bothQuoting = new CyclicBarrier(2);
        ChannelPeerAttestation laptopSide = new ChannelPeerAttestation(meeting(laptopTpm, bothQuoting),
                () -> itc.link("laptop"));
        ChannelPeerAttestation desktopSide = new ChannelPeerAttestation(meeting(desktopTpm, bothQuoting),
                () -> itc.link("desktop"));
        CompletableFuture<Verdict> desktopSees = new CompletableFuture<>();
        desktop.addHandler(channel -> {
            try {
                desktopSees.complete(desktopSide.attestEachOther(channel, TIMEOUT));
            } catch (RuntimeException e) {
                desktopSees.completeExceptionally(e);
            }
        }, Map.of(ChannelHandler.PURPOSE, "each-other"));

        try (Channel c = openTo(desktop, "desktop", "each-other")) {
            Verdict laptopSees = laptopSide.attestEachOther(c, TIMEOUT);
            assertThat(laptopSees.genuine()).isTrue();
            assertThat(laptopSees.level()).isEqualTo("trusted");
            assertThat(desktopSees.get(5, TimeUnit.SECONDS).level()).isEqualTo("trusted");
        }
        assertThat(laptopTpm.quotes).isEqualTo(1);
        assertThat(desktopTpm.quotes).isEqualTo(1);
        assertThat(itc.record).extracting(r -> r.requester() + " judged " + r.result().agentId())
                .containsExactlyInAnyOrder("laptop judged desktop", "desktop judged laptop");
    }

    @Test
    void aPeerWhoseTpmFailsSaysSoAndNeitherSideIsJudged() throws Exception {
        Attester failing = new Attester() {
            @Override
            public Evidence attest(byte[] nonce, byte[] binding) {
                throw new IllegalStateException("TPM2_Quote answered TPM_RC_FAILURE");
            }

            @Override
            public int measurementPcr() {
                return desktopTpm.measurementPcr();
            }
        };
        ChannelPeerAttestation desktopSide = new ChannelPeerAttestation(failing, () -> itc.link("desktop"));
        CompletableFuture<Throwable> desktopFailed = new CompletableFuture<>();
        desktop.addHandler(channel -> {
            try {
                desktopSide.attestEachOther(channel, TIMEOUT);
                desktopFailed.complete(null);
            } catch (RuntimeException e) {
                desktopFailed.complete(e);
            }
        }, Map.of(ChannelHandler.PURPOSE, "each-other"));

        try (Channel c = openTo(desktop, "desktop", "each-other")) {
            assertThatThrownBy(() -> laptopAttestation.attestEachOther(c, TIMEOUT))
                    .isInstanceOf(AttestationException.class)
                    .hasMessageContaining("agent desktop cannot attest: the TPM failed")
                    .hasMessageContaining("TPM_RC_FAILURE");
        }
        assertThat(desktopFailed.get(5, TimeUnit.SECONDS)).isInstanceOf(AttestationException.class)
                .hasMessageContaining("cannot attest to agent laptop");
        assertThat(itc.record).isEmpty();
    }

    @Test
    void aPeerWithoutItsItCenterSaysSoBeforeAnyQuote() throws Exception {
        ChannelPeerAttestation desktopSide = new ChannelPeerAttestation(desktopTpm, () -> null);
        desktop.addHandler(channel -> {
            try {
                desktopSide.attestEachOther(channel, TIMEOUT);
            } catch (AttestationException expected) {
                // the laptop hears why
            }
        }, Map.of(ChannelHandler.PURPOSE, "each-other"));

        try (Channel c = openTo(desktop, "desktop", "each-other")) {
            assertThatThrownBy(() -> laptopAttestation.attestEachOther(c, TIMEOUT))
                    .isInstanceOf(AttestationException.class)
                    .hasMessageContaining("agent desktop does not take part in the attestation")
                    .hasMessageContaining("no link to the IT center");
        }
        assertThat(desktopTpm.quotes).isZero();
        assertThat(laptopTpm.quotes).isZero();
        assertThat(itc.record).isEmpty();
    }

    /** An attester whose quote begins only once the other attester's quote has begun too. */
    static Attester meeting(Attester tpm, CyclicBarrier barrier) {
        return new Attester() {
            @Override
            public Evidence attest(byte[] nonce, byte[] binding) {
                try {
                    barrier.await(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new AttestationException("the other side's quote did not run alongside this one", e);
                }
                return tpm.attest(nonce, binding);
            }

            @Override
            public int measurementPcr() {
                return tpm.measurementPcr();
            }
        };
    }

    /**
     * A relay holding the desktop's TLS credentials (but not its TPM) accepts the laptop's channel and
     * forwards it over a channel of its own to the real desktop: the desktop quotes its own end's binding,
     * the IT center expects the laptop's, and says so.
     */
    @Test
    void aRelayedAttestationIsRefused() throws Exception {
        relay = TestChannels.start(desktopCredentials);
        TlsAgentChannels relayOut = TestChannels.start(pki.agent("mallory"));
        try {
            relay.addHandler(in -> {
                try (Channel out = relayOut.open(new AgentAddress("desktop", "127.0.0.1", desktop.port()),
                        ChannelPeerAttestation.PURPOSE, TIMEOUT)) {
                    Thread up = pump(in.input(), out.output());
                    pump(out.input(), in.output()).join(5000);
                    up.join(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, Map.of(ChannelHandler.PURPOSE, ChannelPeerAttestation.PURPOSE));

            try (Channel c = openTo(relay, "desktop", ChannelPeerAttestation.PURPOSE)) {
                assertThat(c.peerAgentId()).isEqualTo("desktop");
                Verdict v = laptopAttestation.attestPeer(c, TIMEOUT);
                assertThat(desktopTpm.quotes).isEqualTo(1);
                assertThat(v.genuine()).isFalse();
                assertThat(v.level()).isEqualTo("untrusted");
                assertThat(v.has(Code.WRONG_NONCE)).isTrue();
                assertThat(v.explain()).contains("bound to another channel");
            }
        } finally {
            relayOut.close();
        }
    }

    static Thread pump(InputStream in, OutputStream out) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0;) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException ignored) {
                // one side closed
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void aPeerThatAnswersGarbageOrNothingIsAnErrorNamingIt() throws Exception {
        desktop.addHandler(channel -> {
            channel.input().readNBytes(9 + 32);
            channel.output().write("HTTP/1.1 200 OK\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            channel.output().flush();
        }, Map.of(ChannelHandler.PURPOSE, "garbage"));
        try (Channel c = openTo(desktop, "desktop", "garbage")) {
            assertThatThrownBy(() -> laptopAttestation.attestPeer(c, TIMEOUT)).isInstanceOf(AttestationException.class)
                    .hasMessageContaining("agent desktop").hasMessageContaining("not a peer-attestation frame");
        }

        CompletableFuture<Void> release = new CompletableFuture<>();
        desktop.addHandler(channel -> {
            try {
                release.get(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // the test is over
            }
        }, Map.of(ChannelHandler.PURPOSE, "silent"));
        try (Channel c = openTo(desktop, "desktop", "silent")) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> laptopAttestation.attestPeer(c, Duration.ofMillis(500)))
                    .isInstanceOf(AttestationException.class).hasMessageContaining("no evidence from agent desktop within 500 ms");
            assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(4));
        } finally {
            release.complete(null);
        }
    }

    @Test
    void theAnsweringSideRefusesAMalformedRequestAndSaysWhy() throws Exception {
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        desktop.addHandler(channel -> {
            try {
                desktopAttestation.answer(channel, TIMEOUT);
                failure.complete(null);
            } catch (RuntimeException e) {
                failure.complete(e);
            }
        }, Map.of(ChannelHandler.PURPOSE, "answer"));
        try (Channel c = openTo(desktop, "desktop", "answer")) {
            c.output().write("FPA1".getBytes(StandardCharsets.US_ASCII));
            c.output().write(new byte[] { 1, 0x7f, 0, 0, 0 });
            c.output().flush();
            PeerFrames.Frame f = PeerFrames.read(c.input(), PeerFrames.Type.REFUSED);
            assertThat(f.text()).contains("malformed attestation request", "REQUEST frame of");
        }
        assertThat(failure.get(5, TimeUnit.SECONDS)).isInstanceOf(AttestationException.class)
                .hasMessageContaining("malformed attestation request");
        assertThat(desktopTpm.quotes).isZero();
    }

    @Test
    void theLabelIsTheContractsOne() {
        assertThat(PeerAttestation.BINDING_LABEL).isEqualTo("ferry peer attestation");
    }
}
