package io.ferry.api.checkpoint;

import java.time.Duration;
import java.time.Instant;

/**
 * A VM resumed from its latest complete checkpoint.
 *
 * @param vm             the domain
 * @param host           the hypervisor host it now runs on
 * @param sequence       the checkpoint it resumed from
 * @param epoch          the lease epoch this agent now holds
 * @param checkpointAt   when that checkpoint froze the VM
 * @param recoveryMillis from the decision to recover until the VM ran
 * @param workLost       the guest's time between the checkpoint and the recovery's start: what it
 *                       will do again (at most, if the primary died soon after the checkpoint)
 */
public record RecoveryResult(String vm, String host, long sequence, long epoch, Instant checkpointAt,
        long recoveryMillis, Duration workLost) {
}
