package io.ferry.api.policy;

/** A policy was refused, or could not be stored or read; the message says why. Nothing was changed. */
public class PolicyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why. */
    public enum Reason {
        /** The document is not a valid policy ({@link PolicyFormatException} lists every error). */
        INVALID_DOCUMENT,
        /** Not a JWS, a JWS with another algorithm than ES256 or another type, or a signature that does not verify. */
        BAD_SIGNATURE,
        /** Signed, but not by the configured IT center key. */
        WRONG_KEY,
        /** A policy for another VM than the one expected. */
        WRONG_VM,
        /** Older than the policy this agent holds for that VM. */
        ROLLBACK,
        /** The same version as the held policy but a different document. */
        VERSION_CONFLICT,
        /** No IT center key is configured (or it cannot be read). */
        NO_KEY,
        /** No policy for that VM. */
        NO_SUCH_POLICY,
        /** Seal storage refused to store or release the policy. */
        STORAGE,
        /** The IT center could not be asked for a policy: no link to it, unreachable, or it refused. */
        ITCENTER
    }

    private final Reason reason;

    public PolicyException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public PolicyException(Reason reason, String message) {
        this(reason, message, null);
    }

    public Reason reason() {
        return reason;
    }
}
