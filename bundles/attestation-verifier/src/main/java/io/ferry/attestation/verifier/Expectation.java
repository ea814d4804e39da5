package io.ferry.attestation.verifier;

import java.security.PublicKey;

import io.ferry.api.attestation.Evidence;

/**
 * What the verifier knows independently of the evidence: the attestation key it enrolled for that agent,
 * the nonce it issued, what the quote must be bound to, and which PCR holds the measurements.
 *
 * @param attestationKey the enrolled AK's public key (EC P-256 or RSA)
 * @param akQualifiedName the enrolled AK's TPM qualified name, checked against the quote's qualifiedSigner;
 *        null to skip that check (the signature still binds the quote to the key). For a primary key it is
 *        {@link #qualifiedNameOfPrimary}; note that it is not the key's name.
 * @param nonce the nonce the verifier issued ({@value Evidence#NONCE_BYTES} bytes)
 * @param binding the value the quote must be bound to (e.g. the channel identity), empty when unbound
 * @param measurementPcr the PCR the agent measures into
 */
public record Expectation(PublicKey attestationKey, byte[] akQualifiedName, byte[] nonce, byte[] binding, int measurementPcr) {

    public Expectation {
        if (attestationKey == null) {
            throw new IllegalArgumentException("the enrolled attestation key is missing");
        }
        akQualifiedName = akQualifiedName == null ? null : akQualifiedName.clone();
        if (nonce == null || nonce.length != Evidence.NONCE_BYTES) {
            throw new IllegalArgumentException("the expected nonce must have " + Evidence.NONCE_BYTES + " bytes");
        }
        nonce = nonce.clone();
        binding = binding == null ? new byte[0] : binding.clone();
        if (binding.length > Evidence.MAX_BINDING_BYTES) {
            throw new IllegalArgumentException("the expected binding has more than " + Evidence.MAX_BINDING_BYTES + " bytes");
        }
        if (measurementPcr < 0 || measurementPcr > 23) {
            throw new IllegalArgumentException("no PCR " + measurementPcr);
        }
    }

    @Override
    public byte[] akQualifiedName() {
        return akQualifiedName == null ? null : akQualifiedName.clone();
    }

    /** TPM_RH_ENDORSEMENT: the hierarchy of Ferry's attestation key. */
    public static final int TPM_RH_ENDORSEMENT = 0x4000000B;

    /**
     * The qualified name of a primary key with a SHA-256 name (TPM 2.0 Part 1, 16.6): {@code 0x000b ||
     * SHA-256(hierarchy handle || name)}; what a TPM puts in a quote's qualifiedSigner.
     */
    public static byte[] qualifiedNameOfPrimary(int hierarchy, byte[] name) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(java.nio.ByteBuffer.allocate(4).putInt(hierarchy).array());
            md.update(name);
            return java.nio.ByteBuffer.allocate(34).putShort((short) 0x000b).put(md.digest()).array();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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
