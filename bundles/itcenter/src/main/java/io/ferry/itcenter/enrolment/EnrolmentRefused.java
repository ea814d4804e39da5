package io.ferry.itcenter.enrolment;

import io.ferry.api.itcenter.ItCenterException;

/**
 * An enrolment the IT center refuses; answered 400 (or 409 for a spent token or challenge) as
 * problem+json, audited as {@code enrolment.refused}.
 *
 * @see EnrolmentService
 */
final class EnrolmentRefused extends ItCenterException {

    private static final long serialVersionUID = 1L;

    private final String check;

    EnrolmentRefused(String check, String message) {
        this(check, Reason.INVALID, message);
    }

    EnrolmentRefused(String check, Reason reason, String message) {
        super(reason, message);
        this.check = check;
    }

    /** Which check refused: token, ek, ak, challenge, secret, csr, quote. */
    String check() {
        return check;
    }
}
