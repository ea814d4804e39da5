package io.ferry.api.tpm;

/**
 * The TPM could not be reached, or it was restarted under the connection (its transient objects
 * are gone). The next call reconnects; nothing the caller stored is affected.
 */
public class TpmUnavailableException extends TpmException {

    private static final long serialVersionUID = 1L;

    public TpmUnavailableException(String operation, String message, Throwable cause) {
        super(operation, message, null, cause);
    }
}
