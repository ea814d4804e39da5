package io.ferry.api.migration;

import org.osgi.annotation.versioning.ConsumerType;

/** Receives a migration's progress: every phase change, and about every 200 ms while the state moves. */
@ConsumerType
@FunctionalInterface
public interface ProgressListener {

    void progress(MigrationProgress progress);

    ProgressListener NONE = p -> { };
}
