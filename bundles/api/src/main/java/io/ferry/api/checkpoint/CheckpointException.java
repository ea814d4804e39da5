package io.ferry.api.checkpoint;

/** A refused or failed checkpoint operation; the previous complete checkpoint is untouched. */
public class CheckpointException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why. */
    public enum Reason {
        /** Bad arguments or settings. */
        INVALID,
        /** No such VM or checkpoint. */
        NOT_FOUND,
        /** A checkpoint that is corrupt, truncated, replayed, out of order or under another key. */
        REJECTED,
        /** The VM's lease is held by another agent (or could not be obtained): this agent must not run it. */
        FENCED,
        /** A part needed is not there (backup unreachable, IT center unreachable, no seal storage). */
        UNAVAILABLE
    }

    private final Reason reason;

    public CheckpointException(Reason reason, String message) {
        this(reason, message, null);
    }

    public CheckpointException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
