package io.ferry.shell.migration;

import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.ferry.api.migration.MigrationStatus;
import io.ferry.api.migration.Migrations;

@Service
@Command(scope = "migration", name = "list", description = "Lists the migrations in flight on this agent, out and in, "
        + "with their phase and progress.")
public class ListCommand extends MigrationCommand {

    @Override
    void run(Migrations migrations) {
        List<MigrationStatus> flights = migrations.inFlight();
        if (flights.isEmpty()) {
            System.out.println("No migration in flight.");
            return;
        }
        String format = "%-32s %-3s %-20s %-28s %-10s %s%n";
        System.out.printf(format, "ID", "DIR", "VM", "PEER", "USER", "PROGRESS");
        for (MigrationStatus s : flights) {
            System.out.printf(format, s.id(), s.direction(), s.vm(), s.peer(), s.user(),
                    MigrationLine.render(s.progress()));
        }
    }
}
