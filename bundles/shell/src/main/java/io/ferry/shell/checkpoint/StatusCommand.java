package io.ferry.shell.checkpoint;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.checkpoint.CheckpointRecord;
import io.ferry.api.checkpoint.CheckpointStatus;

@Service
@Command(scope = "checkpoint", name = "status", description = "The VMs this agent checkpoints or backs up: last "
        + "checkpoint, size, ratio, duration, guest pause.")
public class StatusCommand extends CheckpointCommand {

    @Override
    public Object execute() {
        System.out.printf("%-20s %-9s %-28s %6s %10s %6s %8s %7s %s%n", "VM", "ROLE", "PEER", "SEQ", "SIZE", "RATIO",
                "TOOK", "PAUSE", "ERROR");
        for (CheckpointStatus s : checkpoints().status()) {
            CheckpointRecord r = s.last();
            System.out.printf("%-20s %-9s %-28s %6s %10s %6s %8s %7s %s%n", s.vm(), s.role(),
                    s.peer() == null ? "-" : s.peer(), r == null ? "-" : r.sequence(),
                    r == null ? "-" : (r.sentBytes() >> 10) + " KiB", r == null || r.rawBytes() <= 0 ? "-"
                            : String.format("%.2f", r.ratio()), r == null || r.durationMillis() < 0 ? "-"
                                    : r.durationMillis() + " ms", r == null || r.pauseMillis() < 0 ? "-"
                                            : r.pauseMillis() + " ms", s.lastError() == null ? "" : s.lastError());
        }
        return null;
    }
}
