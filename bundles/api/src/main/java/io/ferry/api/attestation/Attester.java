package io.ferry.api.attestation;

import org.osgi.annotation.versioning.ProviderType;

/** The agent's side of attestation: evidence for a verifier's nonce. */
@ProviderType
public interface Attester {

    /**
     * A fresh TPM2_Quote by the attestation key over SHA-256(nonce || binding) of the measurement PCR
     * (and the configured boot PCRs), with their values and the measurement log since the TPM's last reset.
     *
     * @param nonce the verifier's nonce, {@value Evidence#NONCE_BYTES} bytes
     * @param binding what to bind the quote to, e.g. SHA-256 of the channel's peer certificate for
     *        peer attestation; empty when unbound (at most {@value Evidence#MAX_BINDING_BYTES} bytes)
     * @throws IllegalArgumentException when the nonce or binding has the wrong size
     * @throws AttestationException when the TPM fails. Evidence whose log does not replay is still
     *         produced: judging it is the verifier's job.
     */
    Evidence attest(byte[] nonce, byte[] binding);

    /** The PCR the agent measures into. */
    int measurementPcr();
}
