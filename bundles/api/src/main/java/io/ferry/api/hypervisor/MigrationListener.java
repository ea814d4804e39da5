package io.ferry.api.hypervisor;

/** Receives the progress of a live migration, about every poll interval, from a helper thread. */
@FunctionalInterface
public interface MigrationListener {

    void progress(JobStats stats);

    MigrationListener NONE = stats -> { };
}
