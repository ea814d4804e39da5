package io.ferry.api.checkpoint;

import java.time.Instant;

/**
 * What this agent does for one VM.
 *
 * @param vm            the domain
 * @param role          whether this agent checkpoints it or keeps its checkpoints
 * @param peer          the other agent (the backup, or the primary that last sent), or null
 * @param settings      the primary's settings, or null on the backup
 * @param last          the last shipped (primary) or applied (backup) checkpoint, or null
 * @param lastError     why the last attempt failed, or null
 * @param lastHeartbeat when the other side was last heard from, or null
 * @param leaseEpoch    the lease epoch this agent holds for the VM, or -1
 */
public record CheckpointStatus(String vm, Role role, String peer, CheckpointSettings settings,
        CheckpointRecord last, String lastError, Instant lastHeartbeat, long leaseEpoch) {

    /** This agent's part. */
    public enum Role {
        PRIMARY, BACKUP, RECOVERED
    }
}
