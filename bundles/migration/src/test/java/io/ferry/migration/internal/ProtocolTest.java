package io.ferry.migration.internal;

import static io.ferry.migration.internal.TestAgent.UUID;
import static io.ferry.migration.internal.TestAgent.VM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.ferry.api.channel.AgentChannels;
import io.ferry.api.channel.Channel;
import io.ferry.api.hypervisor.DomainState;
import io.ferry.channel.internal.TlsAgentChannels;
import io.ferry.channel.testing.TestChannels;
import io.ferry.channel.testing.TestPki;
import io.ferry.migration.internal.Wire.Message;
import io.ferry.migration.internal.Wire.Offer;
import io.ferry.migration.internal.Wire.Reply;
import io.ferry.migration.internal.Wire.Type;

/**
 * The control protocol's framing (strict, bounded), the target's refusal of a replayed session,
 * and the gate that keeps other agents away from the target's libvirtd.
 */
class ProtocolTest {

    private static final String SESSION = "0123456789abcdef0123456789abcdef";

    private TestPki pki;
    private TestAgent source;
    private TestAgent target;

    @BeforeEach
    void setUp() throws Exception {
        pki = new TestPki("IT center");
        source = new TestAgent("laptop", pki.agent("laptop"), TestAgent.limits(), DomainState.RUNNING);
        target = new TestAgent("home", pki.agent("home"), TestAgent.limits(), null);
    }

    @AfterEach
    void tearDown() throws Exception {
        source.close();
        target.close();
    }

    // ------------------------------------------------------------------------------ framing

    @Test
    void messagesSurviveARoundTrip() throws Exception {
        Offer offer = new Offer(SESSION, "vm1", UUID, "alice", "a.b.c", "laptop", "trusted");
        assertThat(roundTrip(offer)).isEqualTo(offer);
        Reply refuse = new Reply(Type.REFUSE, SESSION, "no: ünïcode reason");
        assertThat(roundTrip(refuse)).isEqualTo(refuse);
    }

    @Test
    void anOversizedFrameIsRefusedBeforeItIsRead() {
        byte[] frame = { (byte) Type.OFFER.code, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff };
        assertThatThrownBy(() -> Wire.read(new ByteArrayInputStream(frame)))
                .isInstanceOf(Wire.ProtocolException.class).hasMessageContaining("at most 65536");
    }

    @Test
    void trailingBytesUnknownTypesAndCutFramesAreRefused() throws Exception {
        byte[] good = bytes(new Reply(Type.ACCEPT, SESSION, ""));
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
        longer[4] += 1; // the length covers one byte more than the fields
        assertThatThrownBy(() -> Wire.read(new ByteArrayInputStream(longer)))
                .isInstanceOf(Wire.ProtocolException.class).hasMessageContaining("trailing");
        byte[] unknown = good.clone();
        unknown[0] = 99;
        assertThatThrownBy(() -> Wire.read(new ByteArrayInputStream(unknown)))
                .isInstanceOf(Wire.ProtocolException.class).hasMessageContaining("unknown message type 99");
        assertThatThrownBy(() -> Wire.read(new ByteArrayInputStream(java.util.Arrays.copyOf(good, good.length - 3))))
                .isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> Wire.read(new ByteArrayInputStream(new byte[0])))
                .isInstanceOf(EOFException.class);
    }

    @Test
    void fieldsAreBoundedAndMustBeCleanUtf8() throws Exception {
        assertThatThrownBy(() -> bytes(new Reply(Type.REFUSE, SESSION, "x".repeat(5000))))
                .isInstanceOf(Wire.ProtocolException.class);
        // a hand-made ACCEPT whose session field holds invalid UTF-8
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(payload);
        d.writeByte(Wire.VERSION);
        d.writeShort(2);
        d.write(new byte[] { (byte) 0xc3, 0x28 });
        d.writeShort(0);
        assertThatThrownBy(() -> Wire.read(new ByteArrayInputStream(frame(Type.ACCEPT, payload.toByteArray()))))
                .isInstanceOf(Wire.ProtocolException.class).hasMessageContaining("not UTF-8");
        // a session id that is not 32 hex digits
        payload.reset();
        d.writeByte(Wire.VERSION);
        byte[] s = "../../etc/passwd".getBytes(StandardCharsets.UTF_8);
        d.writeShort(s.length);
        d.write(s);
        d.writeShort(0);
        assertThatThrownBy(() -> Wire.read(new ByteArrayInputStream(frame(Type.ACCEPT, payload.toByteArray()))))
                .isInstanceOf(Wire.ProtocolException.class).hasMessageContaining("not a session id");
        // another protocol version
        payload.reset();
        d.writeByte(2);
        assertThatThrownBy(() -> Wire.read(new ByteArrayInputStream(frame(Type.ACCEPT, payload.toByteArray()))))
                .isInstanceOf(Wire.ProtocolException.class).hasMessageContaining("protocol version 2");
    }

    // ------------------------------------------------------------------------------ replay

    @Test
    void aReplayedSessionIsRefused() throws Exception {
        // first offer: accepted, then aborted by the (hand-played) source
        try (Channel c = openAsSource()) {
            Wire.write(c.output(), offer());
            Message answer = Wire.read(c.input());
            assertThat(answer.type()).isEqualTo(Type.ACCEPT);
            Wire.write(c.output(), new Reply(Type.ABORT, SESSION, "test"));
        }
        // the same session again, on a fresh channel with a fresh attestation
        try (Channel c = openAsSource()) {
            Wire.write(c.output(), offer());
            Message answer = Wire.read(c.input());
            assertThat(answer.type()).isEqualTo(Type.REFUSE);
            assertThat(((Reply) answer).reason()).contains("was used already");
        }
        verify(target.policy, times(1)).importPolicy(anyString(), org.mockito.ArgumentMatchers.eq(UUID));
    }

    @Test
    void garbageInsteadOfAnOfferEndsTheMigrateInWithoutTouchingAnything() throws Exception {
        try (Channel c = openAsSource()) {
            c.output().write(new byte[] { 1, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0 });
            c.output().flush();
            assertThat(c.input().read()).isEqualTo(-1);
        } catch (java.io.IOException e) {
            // a reset is as good as an end of stream
        }
        verify(target.policy, times(0)).importPolicy(anyString(), anyString());
        assertThat(target.vmState).isNull();
    }

    // ------------------------------------------------------------------------------ tunnel gate

    @Test
    void noAgentReachesTheTargetsLibvirtWithoutAnAcceptedMigration() throws Exception {
        assertThat(echoThroughTunnel(source.channels, "virConnectOpen")).as("the tunnel is closed, nothing echoed")
                .isEmpty();
        assertThat(target.fakeLibvirtd.connections()).isZero();
    }

    @Test
    void theGateAdmitsTheSourceOfAnAcceptedMigrationOnly() throws Exception {
        try (Channel c = openAsSource()) {
            Wire.write(c.output(), offer());
            assertThat(Wire.read(c.input()).type()).isEqualTo(Type.ACCEPT);
            assertThat(echoThroughTunnel(source.channels, "hello")).isEqualTo("hello");
            assertThat(target.fakeLibvirtd.connections()).isEqualTo(1);
            Wire.write(c.output(), new Reply(Type.ABORT, SESSION, "test over"));
        }
    }

    @Test
    void theGateRefusesATunnelWithAnotherCertificateForTheAcceptedSourcesName() throws Exception {
        // a second key certified for the source's name (an older enrolment, a copied identity): its
        // tunnel is refused, because only the control channel's certificate was attested
        TlsAgentChannels twin = TestChannels.start(pki.agent("laptop"));
        try (Channel c = openAsSource()) {
            Wire.write(c.output(), offer());
            assertThat(Wire.read(c.input()).type()).isEqualTo(Type.ACCEPT);
            assertThat(echoThroughTunnel(twin, "hello")).as("the twin's tunnel is closed, nothing echoed").isEmpty();
            assertThat(target.fakeLibvirtd.connections()).isZero();
            // the attested source itself still gets through
            assertThat(echoThroughTunnel(source.channels, "hello")).isEqualTo("hello");
            assertThat(target.fakeLibvirtd.connections()).isEqualTo(1);
            Wire.write(c.output(), new Reply(Type.ABORT, SESSION, "test over"));
        } finally {
            twin.close();
        }
    }

    // ------------------------------------------------------------------------------ helpers

    /**
     * Sends {@code text} through a relay from {@code from} to the target, as the source's libvirtd would, and
     * returns what came back (the target's fake libvirtd echoes): empty when the tunnel was closed.
     */
    private String echoThroughTunnel(AgentChannels from, String text) throws Exception {
        byte[] sent = text.getBytes(StandardCharsets.UTF_8);
        try (Relay relay = Relay.libvirt(from, target.address(), Duration.ofSeconds(5));
                Socket libvirtClient = new Socket("127.0.0.1", URI.create(relay.libvirtUri()).getPort())) {
            libvirtClient.setSoTimeout(5000);
            libvirtClient.getOutputStream().write(sent);
            libvirtClient.getOutputStream().flush();
            try {
                return new String(libvirtClient.getInputStream().readNBytes(sent.length), StandardCharsets.UTF_8);
            } catch (java.net.SocketException e) {
                return ""; // reset: closed as well
            }
        }
    }

    /** Opens the control channel and plays the source's side of mutual attestation. */
    private Channel openAsSource() {
        Channel c = source.channels.open(target.address(), SecureMigrations.PURPOSE, Duration.ofSeconds(5));
        source.attestation.attestEachOther(c, Duration.ofSeconds(5));
        return c;
    }

    private static Offer offer() {
        return new Offer(SESSION, VM, UUID, "alice", "header.payload.signature", "host-laptop", "trusted");
    }

    private static Message roundTrip(Message m) throws Exception {
        return Wire.read(new ByteArrayInputStream(bytes(m)));
    }

    private static byte[] bytes(Message m) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Wire.write(out, m);
        return out.toByteArray();
    }

    private static byte[] frame(Type type, byte[] payload) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(out);
        d.writeByte(type.code);
        d.writeInt(payload.length);
        d.write(payload);
        return out.toByteArray();
    }
}
