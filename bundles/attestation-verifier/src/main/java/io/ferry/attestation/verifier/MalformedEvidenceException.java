package io.ferry.attestation.verifier;

/** Bytes from another machine are not what they claim to be: truncated, oversized or malformed. */
public class MalformedEvidenceException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public MalformedEvidenceException(String message) {
        super(message);
    }
}
