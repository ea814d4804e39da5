package io.ferry.shell.checkpoint;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.checkpoint.RecoveryResult;
import io.ferry.shell.vm.HostCompleter;

@Service
@Command(scope = "checkpoint", name = "recover", description = "Resumes a VM here from its latest complete checkpoint, "
        + "once the IT center moved its lease to this agent (the primary's lease expired).")
public class RecoverCommand extends CheckpointCommand {

    @Argument(index = 0, name = "vm", description = "The domain", required = true)
    @Completion(CheckpointVmCompleter.class)
    String vm;

    @Option(name = "-H", aliases = "--host", description = "The Ferry hypervisor host to run it on (default: configured)")
    @Completion(HostCompleter.class)
    String host;

    @Override
    public Object execute() {
        RecoveryResult r = checkpoints().recover(vm, host, (step, percent) -> System.out.printf("[%3d%%] %s%n",
                percent, step));
        System.out.printf("%s runs on %s from checkpoint %d (lease epoch %d) after %d ms; work lost at most %d ms%n",
                r.vm(), r.host(), r.sequence(), r.epoch(), r.recoveryMillis(), r.workLost().toMillis());
        return null;
    }
}
