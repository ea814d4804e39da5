package io.ferry.api.enrolment;

import java.net.URI;
import java.time.Instant;

/**
 * Whether and how this agent is enrolled.
 *
 * @param enrolled   whether it has a key and a certificate from an IT center
 * @param agentId    its id at the IT center (its certificate's CN), or null
 * @param itCenter   the IT center's base URI, or null
 * @param serial     its certificate's serial (hex), or null
 * @param notBefore  start of its certificate's validity, or null
 * @param notAfter   end of its certificate's validity, or null
 * @param rootSha256 SHA-256 (hex) of the IT center root it trusts, or null
 */
public record EnrolmentStatus(boolean enrolled, String agentId, URI itCenter, String serial, Instant notBefore,
        Instant notAfter, String rootSha256) {

    /** Not enrolled. */
    public static EnrolmentStatus none() {
        return new EnrolmentStatus(false, null, null, null, null, null, null);
    }
}
