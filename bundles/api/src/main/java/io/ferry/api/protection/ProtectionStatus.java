package io.ferry.api.protection;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The state of the hypervisor-protection provider.
 *
 * @param providerVersion the version of the bundle that provides it (changes with a hot update)
 * @param interval        how often every protected domain is measured
 * @param action          what a change triggers besides the alert
 * @param lastRound       when the last periodic round ended, or null before the first
 * @param checks          the last check of every domain with a baseline
 * @param alerts          how many alerts this provider raised
 */
public record ProtectionStatus(String providerVersion, Duration interval, ProtectionAction action, Instant lastRound,
        List<IntegrityCheck> checks, long alerts) {

    public ProtectionStatus {
        checks = List.copyOf(checks);
    }
}
