package io.ferry.shell.checkpoint;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.osgi.framework.BundleContext;

import io.ferry.api.checkpoint.Checkpoints;
import io.ferry.shell.support.Services;

/** Base of the checkpoint:* commands: the service is looked up per call, so a hot update is seen. */
abstract class CheckpointCommand implements Action {

    @Reference
    BundleContext context;

    Checkpoints checkpoints() {
        return Services.get(context, Checkpoints.class, "no checkpoint service: feature:install ferry-checkpoint "
                + "(channels need the agent to be enrolled)");
    }
}
