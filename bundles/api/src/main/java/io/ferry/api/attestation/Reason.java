package io.ferry.api.attestation;

/**
 * Why a verdict is what it is: one finding of the verifier.
 *
 * @param code what kind of finding
 * @param component the component it concerns, or null when it concerns the evidence as a whole
 * @param message a sentence for a person
 */
public record Reason(Code code, String component, String message) {

    public Reason {
        if (code == null || message == null || message.isBlank()) {
            throw new IllegalArgumentException("a reason needs a code and a message");
        }
    }

    /** The findings, grouped: the first ones break the evidence's integrity, the later ones its appraisal. */
    public enum Code {
        /** The evidence cannot be parsed: truncated, oversized or malformed bytes. */
        MALFORMED_EVIDENCE(true),
        /** The signature does not verify with the enrolled attestation key (another AK, or tampered). */
        BAD_SIGNATURE(true),
        /** The quote is not a TPM2_Quote by the expected key (wrong magic, type or signer name). */
        NOT_A_QUOTE(true),
        /** The quote's qualifying data is not SHA-256(expected nonce || expected binding). */
        WRONG_NONCE(true),
        /** The nonce was issued too long ago, or used already (decided by the nonce's issuer). */
        STALE_NONCE(true),
        /** The quoted PCR selection differs from the PCR values sent, or lacks the measurement PCR. */
        PCR_SELECTION(true),
        /** The PCR values sent do not hash to the quote's PCR digest. */
        PCR_DIGEST_MISMATCH(true),
        /** Replaying the measurement log does not give the quoted measurement PCR. */
        LOG_DOES_NOT_REPLAY(true),
        /** No reference value exists for this component at this version. */
        UNKNOWN_COMPONENT(false),
        /** A reference value exists for this component and version, with another digest. */
        DIGEST_MISMATCH(false),
        /** A component that the policy requires was not measured. */
        MISSING_COMPONENT(false),
        /** An earlier measurement failed appraisal but was superseded by a later one (informational). */
        SUPERSEDED(false);

        private final boolean integrity;

        Code(boolean integrity) {
            this.integrity = integrity;
        }

        /** Whether this finding means the evidence is not genuine (the lowest level follows). */
        public boolean integrity() {
            return integrity;
        }
    }

    @Override
    public String toString() {
        return code + ": " + message;
    }
}
