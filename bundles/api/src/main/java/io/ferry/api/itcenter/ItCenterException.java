package io.ferry.api.itcenter;

/** A refused IT center operation; nothing was changed by it. */
public class ItCenterException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why it was refused. */
    public enum Reason {
        /** Malformed or out-of-range input. */
        INVALID,
        /** No such agent or certificate. */
        NOT_FOUND,
        /** It exists already, or the state does not allow it (e.g. renewing a revoked agent). */
        CONFLICT,
        /** The store or key material is not usable. */
        UNAVAILABLE
    }

    private final Reason reason;

    public ItCenterException(Reason reason, String message) {
        this(reason, message, null);
    }

    public ItCenterException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
