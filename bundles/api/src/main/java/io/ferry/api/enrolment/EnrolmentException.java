package io.ferry.api.enrolment;

/** A failed enrolment; the agent stored nothing. */
public class EnrolmentException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why it failed. */
    public enum Reason {
        /** The request is malformed (URL, name, fingerprint). */
        INVALID,
        /** The IT center's certificate is not the pinned root's, or no root is pinned. */
        UNTRUSTED,
        /** The IT center refused (token, EK certificate, credential, quote). */
        REFUSED,
        /** The IT center cannot be reached. */
        UNAVAILABLE,
        /** The TPM or seal storage failed. */
        PLATFORM
    }

    private final Reason reason;

    public EnrolmentException(Reason reason, String message) {
        this(reason, message, null);
    }

    public EnrolmentException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
