package io.ferry.shell.checkpoint;

import java.util.List;
import java.util.TreeSet;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.osgi.framework.BundleContext;

import io.ferry.api.checkpoint.CheckpointStatus;
import io.ferry.api.checkpoint.Checkpoints;
import io.ferry.api.checkpoint.StoredCheckpoint;
import io.ferry.shell.support.Completions;
import io.ferry.shell.support.Services;

/** Completes the VMs this agent checkpoints or keeps checkpoints of. */
@Service
public class CheckpointVmCompleter implements Completer {

    @Reference
    BundleContext context;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return Completions.complete(session, commandLine, candidates, () -> {
            Checkpoints c = Services.get(context, Checkpoints.class, "no checkpoint service");
            TreeSet<String> names = new TreeSet<>();
            for (CheckpointStatus s : c.status()) {
                names.add(s.vm());
            }
            for (StoredCheckpoint s : c.stored()) {
                names.add(s.vm());
            }
            return List.copyOf(names);
        });
    }
}
