package io.ferry.api.attestation;

/**
 * One attestation the IT center judged, as it keeps it.
 *
 * @param seq its number, increasing
 * @param requester the agent that asked for the nonce and sent the evidence (the agent itself, or the peer
 *        that attested it over a channel)
 * @param peer whether it was a peer attestation (a nonce bound to a channel)
 * @param result the result
 */
public record AttestationRecord(long seq, String requester, boolean peer, AttestationResult result) {
}
