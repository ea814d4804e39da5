package io.ferry.api.migration;

import java.time.Instant;
import java.util.Objects;

/**
 * How a migration ended.
 *
 * @param id               the migration's id (its session id)
 * @param vm               the VM's name
 * @param target           the target agent, {@code agent@host:port}
 * @param user             who asked
 * @param cause            {@link Cause#NONE} when the VM moved and the target confirmed it
 * @param phase            the phase it ended in ({@link Phase#DONE} when it completed)
 * @param reason           what happened, in words a person understands: the policy rule, the
 *                         attestation finding, the libvirt error; "migrated" when it completed
 * @param runsOnSource     whether the VM runs on the source now (true after every failure before
 *                         the target's confirmation)
 * @param started          when it was asked for
 * @param ended            when it ended
 * @param preparationMillis time before VM state started to move (policy, channel, attestation, handover)
 * @param transferMillis   time of libvirt's migration, or -1
 * @param downtimeMillis   the guest's pause at switch-over, or -1
 * @param bytesTransferred VM state transferred, or -1
 * @param bytesCarried     bytes the agents' channels carried for the transfer, or -1
 */
public record MigrationOutcome(String id, String vm, String target, String user, Cause cause, Phase phase,
        String reason, boolean runsOnSource, Instant started, Instant ended, long preparationMillis,
        long transferMillis, long downtimeMillis, long bytesTransferred, long bytesCarried) {

    public MigrationOutcome {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(cause, "cause");
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(started, "started");
        Objects.requireNonNull(ended, "ended");
    }

    /** Whether the VM moved and runs on the target. */
    public boolean succeeded() {
        return cause == Cause.NONE;
    }

    /** Whether it was refused by a check (no VM state moved), rather than failed while moving. */
    public boolean refused() {
        return switch (cause) {
            case POLICY, ATTESTATION, PROTECTION, TARGET_REFUSED -> true;
            default -> false;
        };
    }

    public long totalMillis() {
        return ended.toEpochMilli() - started.toEpochMilli();
    }
}
