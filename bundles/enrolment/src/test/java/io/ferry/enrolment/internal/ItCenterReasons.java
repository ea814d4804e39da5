package io.ferry.enrolment.internal;

import io.ferry.api.itcenter.ItCenterException;
import io.ferry.api.itcenter.ItCenterException.Reason;

/** The reason of the ItCenterException a call must throw. */
final class ItCenterReasons {

    private ItCenterReasons() {
    }

    static Reason reasonOf(Runnable call) {
        try {
            call.run();
        } catch (ItCenterException e) {
            return e.reason();
        }
        throw new AssertionError("no ItCenterException");
    }
}
