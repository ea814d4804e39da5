package io.ferry.api.checkpoint;

import java.time.Instant;

/**
 * The latest complete checkpoint a backup keeps for a VM.
 *
 * @param vm           the domain
 * @param primary      the agent that sent it
 * @param sequence     its sequence number
 * @param epoch        the lease epoch of the primary that took it
 * @param takenAt      when memory and disk were frozen
 * @param storedBytes  its size at rest (encrypted), disk base included
 * @param compression  how it is compressed
 */
public record StoredCheckpoint(String vm, String primary, long sequence, long epoch, Instant takenAt,
        long storedBytes, Compression compression) {
}
