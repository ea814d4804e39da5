package io.ferry.api.tpm;

/**
 * A TPM operation failed. The message names the operation and the reason; {@link #responseCode()}
 * is the TPM's response code name (e.g. {@code POLICY_FAIL}) when the TPM answered with an error.
 */
public class TpmException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String operation;
    private final String responseCode;

    public TpmException(String operation, String message, String responseCode, Throwable cause) {
        super(operation + ": " + message, cause);
        this.operation = operation;
        this.responseCode = responseCode;
    }

    public TpmException(String operation, String message) {
        this(operation, message, null, null);
    }

    /** The operation that failed, e.g. {@code unseal}. */
    public String operation() {
        return operation;
    }

    /** The TPM's response code name, or null when the TPM did not answer with one. */
    public String responseCode() {
        return responseCode;
    }
}
