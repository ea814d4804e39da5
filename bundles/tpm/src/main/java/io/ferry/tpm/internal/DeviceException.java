package io.ferry.tpm.internal;

/** The TPM device could not be reached: the connection is gone, not a TPM error code. */
final class DeviceException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    DeviceException(String message, Throwable cause) {
        super(message, cause);
    }
}
