package io.ferry.api.hypervisor;

import java.time.Duration;
import java.util.Objects;

/**
 * How a live migration runs.
 *
 * @param maxDowntime  the longest pause the guest may see at switch-over
 * @param bandwidthMiBs  bandwidth cap in MiB/s, 0 for none
 * @param timeout      abort the migration if it has not finished by then
 * @param pollInterval how often progress is reported
 * @param keepSourceDefinition keep the source's (then inactive) definition after libvirt completed the
 *                     move, for a caller that undefines it only once the target confirmed (secure
 *                     migration); false: the source's definition is removed as soon as libvirt completed
 */
public record MigrationOptions(Duration maxDowntime, long bandwidthMiBs, Duration timeout, Duration pollInterval,
        boolean keepSourceDefinition) {

    public static final MigrationOptions DEFAULT =
            new MigrationOptions(Duration.ofMillis(300), 0, Duration.ofMinutes(10), Duration.ofMillis(200));

    public MigrationOptions {
        Objects.requireNonNull(maxDowntime, "maxDowntime");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(pollInterval, "pollInterval");
        if (bandwidthMiBs < 0) {
            throw new IllegalArgumentException("bandwidthMiBs must not be negative");
        }
    }

    /** Options that remove the source's definition once libvirt completed the move. */
    public MigrationOptions(Duration maxDowntime, long bandwidthMiBs, Duration timeout, Duration pollInterval) {
        this(maxDowntime, bandwidthMiBs, timeout, pollInterval, false);
    }

    public MigrationOptions withTimeout(Duration newTimeout) {
        return new MigrationOptions(maxDowntime, bandwidthMiBs, newTimeout, pollInterval, keepSourceDefinition);
    }

    public MigrationOptions withMaxDowntime(Duration newMaxDowntime) {
        return new MigrationOptions(newMaxDowntime, bandwidthMiBs, timeout, pollInterval, keepSourceDefinition);
    }

    /** The same options, keeping the source's definition until the caller removes it. */
    public MigrationOptions keepingSourceDefinition() {
        return new MigrationOptions(maxDowntime, bandwidthMiBs, timeout, pollInterval, true);
    }
}
