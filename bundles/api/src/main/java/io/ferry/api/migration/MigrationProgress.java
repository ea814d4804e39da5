package io.ferry.api.migration;

import java.util.Objects;

/**
 * A snapshot of a running migration. Figures not known (yet) are -1.
 *
 * @param id                  the migration's id
 * @param vm                  the VM's name
 * @param phase               the current phase
 * @param percent             share of the VM state transferred, 0 to 100 (TRANSFER), or -1
 * @param bytesPerSecond      memory transfer rate
 * @param remainingBytes      bytes left to transfer
 * @param dirtyPagesPerSecond rate at which the guest dirties memory
 * @param elapsedMillis       time since the migration was asked for
 * @param note                what happens now, in words (e.g. "waiting for the hypervisor protection service"), or ""
 */
public record MigrationProgress(String id, String vm, Phase phase, int percent, long bytesPerSecond,
        long remainingBytes, long dirtyPagesPerSecond, long elapsedMillis, String note) {

    public MigrationProgress {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(phase, "phase");
        note = note == null ? "" : note;
    }

    /** A phase change without transfer figures. */
    public static MigrationProgress of(String id, String vm, Phase phase, long elapsedMillis, String note) {
        return new MigrationProgress(id, vm, phase, -1, -1, -1, -1, elapsedMillis, note);
    }
}
