package io.ferry.api.checkpoint;

import org.osgi.annotation.versioning.ConsumerType;

/** Progress of a recovery, for a console. */
@ConsumerType
@FunctionalInterface
public interface RecoveryListener {

    RecoveryListener NONE = (step, percent) -> {
    };

    /**
     * @param step    what is being done now
     * @param percent the recovery's overall progress, 0 to 100
     */
    void progress(String step, int percent);
}
