package io.ferry.api.protection;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One run-time measurement of a domain's protected memory against its baseline.
 *
 * @param domain     the domain
 * @param status     what the measurement found
 * @param findings   one line per changed region or problem, empty when intact
 * @param measuredAt when it was measured: for a measurement of guest memory, when the reading began (the
 *                   oldest byte it vouches for was read then or later)
 */
public record IntegrityCheck(String domain, Status status, List<String> findings, Instant measuredAt) {

    /** What a measurement found. */
    public enum Status {
        /** Every protected region matches its baseline. */
        INTACT,
        /** A protected region changed since its baseline. */
        CHANGED,
        /** The domain has no baseline yet (not protected). */
        NO_BASELINE,
        /** The memory could not be read (the domain is not running, libvirt failed). */
        UNAVAILABLE
    }

    public IntegrityCheck {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(measuredAt, "measuredAt");
        findings = List.copyOf(findings);
    }

    /** Whether the domain's protected memory is as at its baseline. */
    public boolean intact() {
        return status == Status.INTACT;
    }
}
