package io.ferry.api.checkpoint;

import java.time.Duration;
import java.util.Objects;

import io.ferry.api.channel.AgentAddress;

/**
 * Checkpoints of one VM.
 *
 * @param vm          the domain name
 * @param host        the Ferry name of the hypervisor host it runs on ({@code ferry.host})
 * @param backup      the backup agent that receives the checkpoints
 * @param interval    time between the starts of two checkpoints
 * @param compression how memory and disk data are compressed
 * @param incremental whether disks travel as their writes since the previous checkpoint (a qcow2
 *                    overlay) rather than whole; the first checkpoint and any after a failed one are whole
 */
public record CheckpointSettings(String vm, String host, AgentAddress backup, Duration interval,
        Compression compression, boolean incremental) {

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(90);

    public CheckpointSettings {
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(backup, "backup");
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(compression, "compression");
        if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("interval must be at least 1 s: " + interval);
        }
    }
}
