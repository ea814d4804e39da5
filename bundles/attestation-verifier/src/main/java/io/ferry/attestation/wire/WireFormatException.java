package io.ferry.attestation.wire;

/** A message that is not in the wire format: the message names the field and what is wrong. */
public class WireFormatException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public WireFormatException(String message) {
        super(message);
    }

    public WireFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
