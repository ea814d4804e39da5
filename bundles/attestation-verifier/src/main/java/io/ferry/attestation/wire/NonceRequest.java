package io.ferry.attestation.wire;

/**
 * {@code POST /api/v1/attestation/nonces}: a nonce for the caller itself (no agent, no binding) or for a
 * peer agent, bound to a value the caller gives (the channel's binding).
 *
 * @param agent the agent the nonce is for, or null for the caller
 * @param binding what the quote must be bound to, 0 to 256 bytes (empty for none)
 */
public record NonceRequest(String agent, byte[] binding) {

    public NonceRequest {
        binding = binding == null ? new byte[0] : binding.clone();
    }

    @Override
    public byte[] binding() {
        return binding.clone();
    }
}
