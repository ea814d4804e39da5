package io.ferry.api.seal;

/**
 * A seal-storage operation failed; the message names the operation, the secret (if any) and
 * what failed. Nothing stored was changed.
 */
public class SealException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What failed. */
    public enum Reason {
        /** No secret of that name. */
        NO_SUCH_SECRET,
        /** A name, secret or approval that is not acceptable as given. */
        INVALID_INPUT,
        /** A blob that is truncated or whose contents do not authenticate. */
        CORRUPT_BLOB,
        /** A blob that holds another secret's contents (renamed or swapped files). */
        SWAPPED_BLOB,
        /** No approval is installed yet. */
        NO_APPROVAL,
        /** The approval is not signed by the configured approval key, or the KEK is sealed to another key. */
        APPROVAL_KEY,
        /** The approval is older than the newest one seen (rollback). */
        APPROVAL_ROLLBACK,
        /** The PCR values differ from the approved ones. */
        PCR_MISMATCH,
        /** The TPM refused to release the KEK for another reason. */
        TPM_REFUSED,
        /** The TPM cannot be reached, or was restarted under the call. */
        TPM_UNAVAILABLE,
        /** A file could not be read or written. */
        IO
    }

    private final String operation;
    private final String secret;
    private final Reason reason;

    public SealException(String operation, String secret, Reason reason, String message, Throwable cause) {
        super(operation + (secret == null ? "" : " '" + secret + "'") + ": " + message, cause);
        this.operation = operation;
        this.secret = secret;
        this.reason = reason;
    }

    public SealException(String operation, String secret, Reason reason, String message) {
        this(operation, secret, reason, message, null);
    }

    public String operation() {
        return operation;
    }

    /** The secret's name, or null. */
    public String secret() {
        return secret;
    }

    public Reason reason() {
        return reason;
    }
}
