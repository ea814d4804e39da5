package io.ferry.shell.checkpoint;

import java.time.Duration;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.channel.AgentAddress;
import io.ferry.api.checkpoint.CheckpointSettings;
import io.ferry.api.checkpoint.CheckpointStatus;
import io.ferry.api.checkpoint.Compression;
import io.ferry.shell.vm.DomainCompleter;
import io.ferry.shell.vm.HostCompleter;

@Service
@Command(scope = "checkpoint", name = "enable", description = "Checkpoints a running VM periodically to a backup agent "
        + "(takes the VM's lease from the IT center first).")
public class EnableCommand extends CheckpointCommand {

    @Argument(index = 0, name = "vm", description = "The domain", required = true)
    @Completion(DomainCompleter.class)
    String vm;

    @Argument(index = 1, name = "backup", description = "The backup agent: agent@host:port", required = true)
    String backup;

    @Option(name = "-H", aliases = "--host", description = "The Ferry hypervisor host the VM runs on")
    @Completion(HostCompleter.class)
    String host = "local";

    @Option(name = "-i", aliases = "--interval", description = "Seconds between checkpoints (default 90)")
    int interval = 90;

    @Option(name = "-c", aliases = "--compression", description = "none, gzip, zstd (default) or lz4")
    @Completion(CompressionCompleter.class)
    String compression = "zstd";

    @Option(name = "--full", description = "Ship whole disks every time instead of the writes since the last checkpoint")
    boolean full;

    @Override
    public Object execute() {
        CheckpointStatus s = checkpoints().enable(new CheckpointSettings(vm, host, AgentAddress.parse(backup),
                Duration.ofSeconds(interval), Compression.parse(compression), !full));
        System.out.printf("Checkpointing %s to %s every %d s (%s), lease epoch %d%n", vm, backup, interval,
                compression, s.leaseEpoch());
        return null;
    }
}
