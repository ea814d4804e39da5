package io.ferry.api.tpm;

import java.util.List;

/**
 * A TPM2_Quote.
 *
 * @param attest the marshalled TPMS_ATTEST that was signed (tpm2_quote's {@code -m} message)
 * @param signature the marshalled TPMT_SIGNATURE (tpm2_quote's {@code -s} signature in its default format)
 * @param derSignature the same signature as JCA takes it ({@code SHA256withECDSA}, DER)
 * @param pcrs the PCR values read right after the quote, in the order quoted
 */
public record Quote(byte[] attest, byte[] signature, byte[] derSignature, List<Pcr> pcrs) {

    public Quote {
        attest = attest.clone();
        signature = signature.clone();
        derSignature = derSignature.clone();
        pcrs = List.copyOf(pcrs);
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
