package io.ferry.itests.transport;

import java.io.IOException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;

import io.ferry.api.attestation.AttestationException;
import io.ferry.api.attestation.PeerAttestation;
import io.ferry.api.attestation.Reason;
import io.ferry.api.attestation.Verdict;
import io.ferry.api.channel.Channel;

/**
 * A TEST DOUBLE for the IT center's peer attestation (no IT center, no TPM quote): the answering
 * side sends its end's channel binding, the attesting side compares it with its own and returns
 * the level this test gives the peer, or a not-genuine verdict when the bindings differ. It keeps
 * the protocol's shape (both ends, both orders, bound to the channel) so the migration flow runs
 * unchanged; the real ChannelPeerAttestation needs a running IT center.
 */
final class BindingAttestation implements PeerAttestation {

    /** The level the IT center would give this agent's peers. */
    volatile String peerLevel = "trusted";

    @Override
    public Verdict attestPeer(Channel channel, Duration timeout) {
        byte[] mine = channel.binding(BINDING_LABEL);
        byte[] theirs;
        try {
            theirs = channel.input().readNBytes(32);
        } catch (IOException e) {
            throw new AttestationException(channel.peerAgentId() + " did not answer the attestation: "
                    + e.getMessage(), e);
        }
        if (theirs.length != 32) {
            throw new AttestationException(channel.peerAgentId() + " did not answer the attestation");
        }
        if (!MessageDigest.isEqual(mine, theirs)) {
            return new Verdict("untrusted", false, List.of(new Reason(Reason.Code.WRONG_NONCE, null,
                    "the answer was made for another channel")), List.of(), List.of());
        }
        return new Verdict(peerLevel, true, List.of(), List.of(), List.of());
    }

    @Override
    public void answer(Channel channel, Duration timeout) {
        try {
            channel.output().write(channel.binding(BINDING_LABEL));
            channel.output().flush();
        } catch (IOException e) {
            throw new AttestationException("cannot answer " + channel.peerAgentId() + ": " + e.getMessage(), e);
        }
    }
}
