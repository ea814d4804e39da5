package io.ferry.api.tpm;

/**
 * A TPMS_ATTEST signed by the attestation key (TPM2_Certify).
 *
 * @param attest the marshalled TPMS_ATTEST
 * @param signature the marshalled TPMT_SIGNATURE
 * @param derSignature the same signature as JCA takes it ({@code SHA256withECDSA}, DER)
 */
public record Attestation(byte[] attest, byte[] signature, byte[] derSignature) {

    public Attestation {
        attest = attest.clone();
        signature = signature.clone();
        derSignature = derSignature.clone();
    }

    @Override
    public byte[] attest() {
        return attest.clone();
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }

    @Override
    public byte[] derSignature() {
        return derSignature.clone();
    }
}
