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
 * @param streamUri    where QEMU sends the VM state: null to send it inside libvirt's own connection to the
 *                     target (tunnelled); {@code unix:///path} for QEMU's own stream to that socket, whose
 *                     path the target's QEMU listens on in its own file system (a caller carries the stream
 *                     from one to the other; secure migration does, inside its agent channel)
 */
public record MigrationOptions(Duration maxDowntime, long bandwidthMiBs, Duration timeout, Duration pollInterval,
        boolean keepSourceDefinition, String streamUri) {

    public static final MigrationOptions DEFAULT =
            new MigrationOptions(Duration.ofMillis(300), 0, Duration.ofMinutes(10), Duration.ofMillis(200));

    public MigrationOptions {
        Objects.requireNonNull(maxDowntime, "maxDowntime");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(pollInterval, "pollInterval");
        if (bandwidthMiBs < 0) {
            throw new IllegalArgumentException("bandwidthMiBs must not be negative");
        }
        if (streamUri != null && !streamUri.startsWith("unix:///")) {
            throw new IllegalArgumentException("streamUri must be unix:///<path>, not " + streamUri);
        }
    }

    /** Options for a tunnelled migration. */
    public MigrationOptions(Duration maxDowntime, long bandwidthMiBs, Duration timeout, Duration pollInterval,
            boolean keepSourceDefinition) {
        this(maxDowntime, bandwidthMiBs, timeout, pollInterval, keepSourceDefinition, null);
    }

    /** Options that remove the source's definition once libvirt completed the move. */
    public MigrationOptions(Duration maxDowntime, long bandwidthMiBs, Duration timeout, Duration pollInterval) {
        this(maxDowntime, bandwidthMiBs, timeout, pollInterval, false, null);
    }

    public MigrationOptions withTimeout(Duration newTimeout) {
        return new MigrationOptions(maxDowntime, bandwidthMiBs, newTimeout, pollInterval, keepSourceDefinition,
                streamUri);
    }

    public MigrationOptions withMaxDowntime(Duration newMaxDowntime) {
        return new MigrationOptions(newMaxDowntime, bandwidthMiBs, timeout, pollInterval, keepSourceDefinition,
                streamUri);
    }

    /** The same options, keeping the source's definition until the caller removes it. */
    public MigrationOptions keepingSourceDefinition() {
        return new MigrationOptions(maxDowntime, bandwidthMiBs, timeout, pollInterval, true, streamUri);
    }

    /** The same options, QEMU sending the VM state to that UNIX socket ({@code unix:///path}). */
    public MigrationOptions streamingTo(String uri) {
        return new MigrationOptions(maxDowntime, bandwidthMiBs, timeout, pollInterval, keepSourceDefinition, uri);
    }
}
