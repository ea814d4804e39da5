package io.ferry.api.checkpoint;

import java.time.Instant;

/**
 * One checkpoint that was taken and shipped (on the primary) or applied (on the backup).
 *
 * @param vm             the domain
 * @param sequence       its number, increasing by one per VM and primary lease
 * @param epoch          the lease epoch the primary held when it took it
 * @param takenAt        the instant memory and disk were frozen
 * @param rawBytes       memory image plus disk data before compression
 * @param sentBytes      bytes on the wire (compressed and encrypted)
 * @param durationMillis from the start of the snapshot until the backup confirmed it
 * @param pauseMillis    how long the guest was paused by the snapshot, or -1 when unknown
 * @param incremental    whether it depends on the previous checkpoint (disk delta, memory dictionary)
 */
public record CheckpointRecord(String vm, long sequence, long epoch, Instant takenAt, long rawBytes, long sentBytes,
        long durationMillis, long pauseMillis, boolean incremental) {

    /** Wire size relative to the raw size. */
    public double ratio() {
        return rawBytes <= 0 ? 0 : (double) sentBytes / rawBytes;
    }
}
