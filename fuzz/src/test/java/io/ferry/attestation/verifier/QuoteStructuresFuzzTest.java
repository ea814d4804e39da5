package io.ferry.attestation.verifier;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.ferry.fuzz.FuzzRun;

/**
 * The TPM structures in evidence come from the attested machine, which may be the attacker: the
 * strict parsers either return a structure or refuse with {@link MalformedEvidenceException}
 * (of which {@link NotAQuoteException} is one); any other exception, a hang or an allocation the
 * input's size does not justify is a finding.
 */
class QuoteStructuresFuzzTest {

    @FuzzTest(maxDuration = FuzzRun.BOUND)
    void attest(byte[] input) {
        try {
            TpmsAttest quote = TpmsAttest.parse(input);
            if (quote.extraData().length > 64 || quote.pcrDigest().length > 64) {
                throw new AssertionError("a quote with oversized fields was accepted");
            }
        } catch (MalformedEvidenceException refused) {
            // the documented refusal
        }
    }

    @FuzzTest(maxDuration = FuzzRun.BOUND)
    void signature(byte[] input) {
        try {
            TpmSignature.parse(input);
        } catch (MalformedEvidenceException refused) {
            // the documented refusal
        }
    }
}
