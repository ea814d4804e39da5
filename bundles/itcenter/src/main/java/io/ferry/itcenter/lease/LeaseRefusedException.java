package io.ferry.itcenter.lease;

import io.ferry.api.itcenter.ItCenterException;

/** A lease operation the lease's state does not allow (409); it carries the lease as it is. */
public final class LeaseRefusedException extends ItCenterException {

    private static final long serialVersionUID = 1L;

    private final transient Lease current;

    public LeaseRefusedException(String message, Lease current) {
        super(Reason.CONFLICT, message);
        this.current = current;
    }

    /** The lease as it stands, or null when there is none. */
    public Lease current() {
        return current;
    }
}
