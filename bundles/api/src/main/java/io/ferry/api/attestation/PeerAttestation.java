package io.ferry.api.attestation;

import java.time.Duration;

import org.osgi.annotation.versioning.ProviderType;

import io.ferry.api.channel.Channel;

/**
 * Attestation of the agent at the other end of a {@link Channel}, judged by the IT center and
 * bound to that very channel: the IT center issues a single-use nonce for the peer, the peer
 * quotes it with {@link Channel#binding(String) this channel's binding}, and the IT center checks
 * the quote with the peer's enrolled attestation key. A relay cannot answer for another machine,
 * because its own channel has another binding.
 *
 * <p>The exchange runs on the channel's streams; both ends must call the matching method at the
 * same point of their protocol: the side calling {@link #attestPeer} reads what {@link #answer}
 * writes, and the other way round; for mutual attestation both sides call {@link #attestEachOther}.
 */
@ProviderType
public interface PeerAttestation {

    /** The {@link Channel#binding(String)} label peer attestation uses. */
    String BINDING_LABEL = "ferry peer attestation";

    /**
     * Has the peer attest over the channel and returns the IT center's fresh verdict on it.
     *
     * @throws AttestationException naming the peer and what failed (the IT center unreachable, the
     *         peer's answer missing or malformed, a timeout); a verdict that is merely low is
     *         returned, not thrown
     */
    Verdict attestPeer(Channel channel, Duration timeout);

    /**
     * Answers the peer's {@link #attestPeer} on the channel with this agent's evidence.
     *
     * @throws AttestationException when the request is malformed, the TPM fails, or the peer goes
     *         away
     */
    void answer(Channel channel, Duration timeout);

    /**
     * Mutual attestation: has the peer attest and attests to the peer at the same time, so the two
     * quotes and the two judgements of the IT center run side by side instead of one after the other.
     * Both ends of the channel call it; each gets the IT center's fresh verdict on the other.
     *
     * @throws AttestationException as {@link #attestPeer} and {@link #answer} do (the IT center
     *         unreachable, the peer unable to attest or gone, a timeout, this agent's TPM failing);
     *         a verdict that is merely low is returned, not thrown
     */
    Verdict attestEachOther(Channel channel, Duration timeout);
}
