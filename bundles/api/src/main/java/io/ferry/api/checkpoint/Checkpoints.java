package io.ferry.api.checkpoint;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The agent's checkpoint service, in both roles: as primary it checkpoints the VMs it was asked
 * to protect; as backup it keeps their latest complete checkpoints and recovers them.
 */
@ProviderType
public interface Checkpoints {

    /**
     * Starts checkpointing a running VM to a backup agent: takes the VM's lease from the IT
     * center, hands the VM's checkpoint key to the backup over the channel, and takes the first
     * checkpoint at once. @throws CheckpointException when the lease is held elsewhere, the backup
     * refuses, or the VM does not run here
     */
    CheckpointStatus enable(CheckpointSettings settings);

    /** Stops checkpointing a VM; returns whether it was being checkpointed. */
    boolean disable(String vm);

    /** Takes one checkpoint now (outside the schedule) and waits for the backup's confirmation. */
    CheckpointRecord checkpointNow(String vm);

    /** The VMs this agent checkpoints or backs up. */
    List<CheckpointStatus> status();

    /** The latest complete checkpoints this agent keeps as a backup. */
    List<StoredCheckpoint> stored();

    /**
     * Resumes a VM from the latest complete checkpoint kept here, on this agent's hypervisor host
     * {@code host} (null: the configured one), after the IT center moved the VM's lease to this
     * agent. @throws CheckpointException FENCED when the lease stays with the primary
     */
    RecoveryResult recover(String vm, String host, RecoveryListener listener);
}
