package io.ferry.shell.checkpoint;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "checkpoint", name = "disable", description = "Stops checkpointing a VM: releases its lease at the "
        + "IT center and tells the backup to forget it (either suffices, so that the backup never recovers it while "
        + "it runs here). Fails, and protection goes on, when neither the IT center nor the backup can be reached.")
public class DisableCommand extends CheckpointCommand {

    @Argument(index = 0, name = "vm", description = "The domain", required = true)
    @Completion(CheckpointVmCompleter.class)
    String vm;

    @Override
    public Object execute() {
        System.out.println(checkpoints().disable(vm) ? "Stopped checkpointing " + vm : vm + " was not checkpointed");
        return null;
    }
}
