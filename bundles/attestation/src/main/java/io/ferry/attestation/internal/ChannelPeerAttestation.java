package io.ferry.attestation.internal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.logging.Logger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.ferry.api.attestation.AttestationException;
import io.ferry.api.attestation.AttestationResult;
import io.ferry.api.attestation.Attester;
import io.ferry.api.attestation.Evidence;
import io.ferry.api.attestation.PeerAttestation;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.channel.Channel;
import io.ferry.api.channel.ChannelHandler;
import io.ferry.api.itcenter.ItCenterLink;
import io.ferry.attestation.wire.AttestationJson;
import io.ferry.attestation.wire.EvidenceSubmission;
import io.ferry.attestation.wire.NonceGrant;
import io.ferry.attestation.wire.PeerFrames;
import io.ferry.attestation.wire.PeerFrames.Frame;
import io.ferry.attestation.wire.PeerFrames.Type;
import io.ferry.attestation.wire.WireFormatException;

/**
 * {@link PeerAttestation} on a channel's streams ({@link PeerFrames}): the attesting side asks the IT
 * center for a nonce for the channel's peer bound to {@code channel.binding(BINDING_LABEL)}, sends the
 * nonce, reads the peer's evidence and has the IT center judge it; the answering side quotes the nonce
 * with its own end's binding. A relay has two channels, hence two bindings: the quote it relays answers
 * for the wrong one, and the IT center says WRONG_NONCE.
 * <p>
 * It also answers channels opened for {@value #PURPOSE} (what {@code attestation:verify} opens).
 */
@Component(service = { PeerAttestation.class, ChannelHandler.class },
        property = ChannelHandler.PURPOSE + "=" + ChannelPeerAttestation.PURPOSE)
public final class ChannelPeerAttestation implements PeerAttestation, ChannelHandler {

    /** The channel purpose of a bare peer attestation. */
    public static final String PURPOSE = "ferry-attestation";
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(30);
    private static final Logger LOG = Logger.getLogger(ChannelPeerAttestation.class.getName());

    private final Attester attester;
    private final ItCenterClient itCenter;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ItCenterLink link;

    @Activate
    public ChannelPeerAttestation(@Reference Attester attester) {
        this.attester = attester;
        this.itCenter = new ItCenterClient(() -> link);
    }

    /** For tests: another link. */
    ChannelPeerAttestation(Attester attester, Supplier<ItCenterLink> link) {
        this.attester = attester;
        this.itCenter = new ItCenterClient(link);
    }

    @Override
    public Verdict attestPeer(Channel channel, Duration timeout) {
        String peer = channel.peerAgentId();
        NonceGrant grant = itCenter.nonce(peer, channel.binding(BINDING_LABEL));
        Frame answer;
        try {
            PeerFrames.write(channel.output(), Type.REQUEST, grant.nonce());
            answer = Timed.read(channel, timeout, "evidence",
                    () -> PeerFrames.read(channel.input(), Type.EVIDENCE, Type.REFUSED));
        } catch (IOException | WireFormatException e) {
            throw failedAttesting(peer, e);
        }
        return judge(peer, answer);
    }

    @Override
    public void answer(Channel channel, Duration timeout) {
        String peer = channel.peerAgentId();
        Frame request;
        try {
            request = Timed.read(channel, timeout, "attestation request",
                    () -> PeerFrames.read(channel.input(), Type.REQUEST));
        } catch (IOException | WireFormatException e) {
            throw failedReadingRequest(channel, e);
        }
        byte[] evidence = evidence(channel, request.payload());
        try {
            PeerFrames.write(channel.output(), Type.EVIDENCE, evidence);
        } catch (IOException e) {
            throw new AttestationException("cannot send evidence to agent " + peer + ": " + e.getMessage(), e);
        }
    }

    /**
     * Both sides send their request first and then quote the other's, so the two TPM quotes run at the same time,
     * and so do the two calls to the IT center that judge them.
     */
    @Override
    public Verdict attestEachOther(Channel channel, Duration timeout) {
        String peer = channel.peerAgentId();
        NonceGrant grant;
        try {
            grant = itCenter.nonce(peer, channel.binding(BINDING_LABEL));
        } catch (RuntimeException e) {
            refuse(channel, "it cannot attest this channel's peer: " + e.getMessage());
            throw e;
        }
        Frame request;
        try {
            request = sendAndRead(channel, timeout, "attestation request", Type.REQUEST, grant.nonce(), Type.REQUEST,
                    Type.REFUSED);
        } catch (IOException | WireFormatException e) {
            throw failedReadingRequest(channel, e);
        }
        if (request.type() == Type.REFUSED) {
            throw new AttestationException("agent " + peer + " does not take part in the attestation: "
                    + request.text());
        }
        byte[] ours = evidence(channel, request.payload());
        Frame theirs;
        try {
            theirs = sendAndRead(channel, timeout, "evidence", Type.EVIDENCE, ours, Type.EVIDENCE, Type.REFUSED);
        } catch (IOException | WireFormatException e) {
            throw failedAttesting(peer, e);
        }
        return judge(peer, theirs);
    }

    /**
     * Sends a frame while reading the peer's next one. Both sides send at once: two frames of up to 1 MiB need
     * not fit the sockets' buffers, and a peer that refused may have closed the channel already, so its reason,
     * when it came, says more than our failed write.
     */
    private static Frame sendAndRead(Channel channel, Duration timeout, String what, Type type, byte[] payload,
            Type... expected) throws IOException {
        Timed.Pending<Frame> reading = Timed.start(channel, what, () -> PeerFrames.read(channel.input(), expected));
        IOException sending = null;
        try {
            PeerFrames.write(channel.output(), type, payload);
        } catch (IOException e) {
            sending = e;
        }
        Frame frame = reading.await(timeout);
        if (sending != null && frame.type() != Type.REFUSED) {
            throw sending;
        }
        return frame;
    }

    /** The peer's answer to our request, judged by the IT center. */
    private Verdict judge(String peer, Frame answer) {
        if (answer.type() == Type.REFUSED) {
            throw new AttestationException("agent " + peer + " cannot attest: " + answer.text());
        }
        Evidence evidence;
        try {
            evidence = AttestationJson.read(new String(answer.payload(), StandardCharsets.UTF_8),
                    AttestationJson::evidence);
        } catch (WireFormatException e) {
            throw new AttestationException("agent " + peer + " sent malformed evidence: " + e.getMessage(), e);
        }
        AttestationResult result = itCenter.submit(new EvidenceSubmission(peer, null, evidence));
        return result.verdict();
    }

    /**
     * This agent's evidence for the peer's nonce, bound to our end of the channel; the peer is told if the TPM
     * fails.
     */
    private byte[] evidence(Channel channel, byte[] nonce) {
        Evidence evidence;
        try {
            evidence = attester.attest(nonce, channel.binding(BINDING_LABEL));
        } catch (RuntimeException e) {
            refuse(channel, "the TPM failed: " + e.getMessage());
            throw e instanceof AttestationException a ? a
                    : new AttestationException("cannot attest to agent " + channel.peerAgentId() + ": "
                            + e.getMessage(), e);
        }
        byte[] json = AttestationJson.write(AttestationJson.toJson(evidence)).getBytes(StandardCharsets.UTF_8);
        if (json.length > PeerFrames.MAX_EVIDENCE_BYTES) {
            refuse(channel, "the evidence has " + json.length + " bytes, more than a frame carries");
            throw new AttestationException("the evidence is too large for a channel frame (" + json.length + " bytes)");
        }
        return json;
    }

    private static AttestationException failedAttesting(String peer, Exception e) {
        if (e instanceof EOFException) {
            return new AttestationException("agent " + peer + " closed the channel instead of attesting", e);
        }
        if (e instanceof WireFormatException) {
            return new AttestationException("agent " + peer + " answered the attestation request with "
                    + e.getMessage(), e);
        }
        return new AttestationException("the channel to agent " + peer + " failed during attestation: "
                + e.getMessage(), e);
    }

    private static AttestationException failedReadingRequest(Channel channel, Exception e) {
        String peer = channel.peerAgentId();
        if (e instanceof EOFException) {
            return new AttestationException("agent " + peer + " closed the channel before asking to attest", e);
        }
        if (e instanceof WireFormatException) {
            refuse(channel, "malformed attestation request: " + e.getMessage());
            return new AttestationException("agent " + peer + " sent a malformed attestation request: "
                    + e.getMessage(), e);
        }
        return new AttestationException("the channel to agent " + peer + " failed: " + e.getMessage(), e);
    }

    private static void refuse(Channel channel, String why) {
        try {
            PeerFrames.refuse(channel.output(), why);
        } catch (IOException | RuntimeException e) {
            LOG.fine("cannot tell the peer why: " + e);
        }
    }

    /** A channel opened for {@value #PURPOSE}: answer one attestation request. */
    @Override
    public void accept(Channel channel) throws IOException {
        try {
            answer(channel, ANSWER_TIMEOUT);
        } catch (AttestationException e) {
            LOG.warning("peer attestation for agent " + channel.peerAgentId() + " failed: " + e.getMessage());
        }
    }
}
