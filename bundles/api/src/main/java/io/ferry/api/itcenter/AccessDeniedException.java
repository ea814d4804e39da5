package io.ferry.api.itcenter;

/** A client certificate that does not authenticate an agent. The refusal is in the audit log. */
public class AccessDeniedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why the certificate was refused. */
    public enum Reason {
        /** No client certificate was presented. */
        NO_CERTIFICATE,
        /** Not issued by this IT center (or its signature does not verify). */
        FOREIGN,
        /** Outside its validity period. */
        EXPIRED,
        /** Revoked, or its agent is. */
        REVOKED
    }

    private final Reason reason;

    public AccessDeniedException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
