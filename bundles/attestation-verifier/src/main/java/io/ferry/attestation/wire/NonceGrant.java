package io.ferry.attestation.wire;

import java.time.Instant;

/**
 * The IT center's single-use nonce.
 *
 * @param nonce 32 random bytes
 * @param agent the agent whose evidence must answer it
 * @param binding what the quote must be bound to (empty for none)
 * @param expiresAt after this, evidence for it is refused
 */
public record NonceGrant(byte[] nonce, String agent, byte[] binding, Instant expiresAt) {

    public NonceGrant {
        nonce = nonce.clone();
        binding = binding.clone();
    }

    @Override
    public byte[] nonce() {
        return nonce.clone();
    }

    @Override
    public byte[] binding() {
        return binding.clone();
    }
}
