package io.ferry.attestation.verifier;

/** Well-formed enough to read its header, but not a TPM-generated quote (wrong magic or attestation type). */
public class NotAQuoteException extends MalformedEvidenceException {

    private static final long serialVersionUID = 1L;

    public NotAQuoteException(String message) {
        super(message);
    }
}
