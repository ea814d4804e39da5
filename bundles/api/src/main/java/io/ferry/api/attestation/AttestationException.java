package io.ferry.api.attestation;

/** Measurement or attestation failed on the agent: the log cannot be written, or the TPM failed. */
public class AttestationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public AttestationException(String message, Throwable cause) {
        super(message, cause);
    }

    public AttestationException(String message) {
        super(message);
    }
}
