package io.ferry.shell.checkpoint;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.checkpoint.StoredCheckpoint;

@Service
@Command(scope = "checkpoint", name = "list", description = "The latest complete checkpoints this agent keeps as backup.")
public class ListCommand extends CheckpointCommand {

    @Override
    public Object execute() {
        System.out.printf("%-20s %-16s %6s %6s %-24s %10s %s%n", "VM", "PRIMARY", "SEQ", "EPOCH", "TAKEN", "STORED",
                "COMPRESSION");
        for (StoredCheckpoint s : checkpoints().stored()) {
            System.out.printf("%-20s %-16s %6d %6d %-24s %10s %s%n", s.vm(), s.primary(), s.sequence(), s.epoch(),
                    s.takenAt(), (s.storedBytes() >> 10) + " KiB", s.compression().name().toLowerCase());
        }
        return null;
    }
}
